"""A merged customer's P&L counts under its survivor's segment, history included,
and follows the survivor's later changes, whatever order the events arrive in (as
the sales ledger counts it)."""

from datetime import UTC, datetime
from decimal import Decimal
from itertools import permutations

from services.reporting import catalogue
from shared.events import make_event
from tests.reporting.events import registered, sale, updated


def merged(merged_id, survivor_id, when="2025-02-01T00:00"):
    moment = datetime.fromisoformat(when).replace(tzinfo=UTC)
    return make_event(
        "customer.merged",
        {"survivor_id": survivor_id, "merged_id": merged_id, "merged_at": moment},
        producer="customer",
        occurred_at=moment,
    )


def events(n: int) -> dict:
    gone, keep = f"gone{n}", f"keep{n}"
    return {
        "gone registered": registered(gone, "retail"),
        "keep registered": registered(keep, "smb"),
        "gone's sale": sale(gone, "100.00", "60.00", sale_id=f"s-{n}"),
        "merge": merged(gone, keep),
        "keep updated": updated(keep, "enterprise", "2025-03-01T00:00"),
    }


def test_a_merged_customers_pnl_follows_the_survivors_segment_in_any_order(dispatcher):
    # Each order with customers of its own, in one database.
    orders = list(permutations(events(0)))
    for n, order in enumerate(orders):
        happening = events(n)
        for name in order:
            assert dispatcher.dispatch(happening[name])
        assert dispatcher.dispatch(sale(f"gone{n}", "10.00", "1.00", sale_id=f"later-{n}"))
    report = catalogue.pnl_report(dispatcher.uow, "HKD")
    assert [(s["segment"], s["revenue"]) for s in report["segments"]] == [
        ("enterprise", Decimal("110.00") * len(orders))
    ]
    assert report["reconciliation"]["differences"] == {}


def test_a_chain_of_merges_follows_the_last_survivor(dispatcher):
    for event in (
        registered("a", "retail"),
        registered("b", "smb"),
        sale("a", "5.00", "1.00"),
        merged("b", "c"),
        merged("a", "b"),
        registered("c", "public", name="C"),
    ):
        assert dispatcher.dispatch(event)
    report = catalogue.pnl_report(dispatcher.uow, "HKD")
    assert [(s["segment"], s["revenue"]) for s in report["segments"]] == [
        ("public", Decimal("5.00"))
    ]
