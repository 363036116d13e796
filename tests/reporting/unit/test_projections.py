"""Reporting's handler through the real dispatcher and inbox: the event log and the
read models it feeds, without a broker."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from services.reporting import catalogue, config
from services.reporting.events import projections
from services.reporting.pnl.tables import PnlDaily
from services.reporting.tables import CustomerDim, EventLog, Inbox
from shared.config import ConfigError
from shared.events import Event, parse_event
from tests.reporting.events import completed, registered, sale, scheduled, updated

HK = ZoneInfo("Asia/Hong_Kong")


def activity(dispatcher, start, end, zone=HK):
    return catalogue.activity_report(
        dispatcher.uow, zone, date.fromisoformat(start), date.fromisoformat(end)
    )


def pnl(dispatcher, currency="HKD"):
    return catalogue.pnl_report(dispatcher.uow, currency)


def count(dispatcher, model) -> int:
    with dispatcher.uow.reader() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_calls_count_on_their_hong_kong_day_by_outcome(dispatcher):
    for event in (
        completed("2025-03-01T15:59", "reached", "a"),  # 23:59 in Hong Kong
        completed("2025-03-01T16:00", "reached", "b"),  # 00:00 the next day
        completed("2025-03-01T17:00", "no_answer", "c"),
        scheduled("2025-03-01T20:00", "d"),
        scheduled("2025-03-02T01:00", "e"),
    ):
        dispatcher.dispatch(event)
    report = activity(dispatcher, "2025-03-01", "2025-03-02")
    assert report["timezone"] == "Asia/Hong_Kong"
    assert report["days"] == [
        {
            "day": date(2025, 3, 1),
            "planned": 0,
            "completed": 1,
            "missed": 0,
            "outcomes": {"reached": 1},
        },
        {
            "day": date(2025, 3, 2),
            "planned": 2,
            "completed": 2,
            "missed": 0,
            "outcomes": {"no_answer": 1, "reached": 1},
        },
    ]
    totals = report["totals"]
    assert (totals["planned"], totals["completed"], totals["outcomes"]) == (
        2,
        3,
        {"reached": 2, "no_answer": 1},
    )


def test_the_reporting_time_zone_decides_the_day(make_dispatcher, sqlite_url):
    dispatcher = make_dispatcher(sqlite_url, REPORTING_TIMEZONE="UTC")
    dispatcher.dispatch(completed("2025-03-01T16:00"))
    days = activity(dispatcher, "2025-03-01", "2025-03-02", ZoneInfo("UTC"))["days"]
    assert [d["day"] for d in days] == [date(2025, 3, 1)]


def test_an_unknown_time_zone_refuses_to_start():
    with pytest.raises(ConfigError):
        config.load({"DEV_MODE": "1", "REPORTING_TIMEZONE": "Mars/Olympus"})


def test_a_redelivered_event_counts_once(dispatcher):
    call, sold = completed("2025-03-01T04:00"), sale("c1", "100.00", "60.00")
    for event in (call, call, sold, sold):
        assert dispatcher.dispatch(event)
    assert activity(dispatcher, "2025-03-01", "2025-03-01")["totals"]["completed"] == 1
    assert pnl(dispatcher)["totals"]["sales"] == 1
    assert count(dispatcher, EventLog) == 2 and count(dispatcher, Inbox) == 2


def test_a_sale_before_its_customer_counts_and_moves_to_its_segment(dispatcher):
    dispatcher.dispatch(sale("c9", "100.00", "60.00"))
    assert [(s["segment"], s["revenue"]) for s in pnl(dispatcher)["segments"]] == [
        ("unknown", Decimal("100.00"))
    ]
    dispatcher.dispatch(registered("c9", "smb"))
    report = pnl(dispatcher)
    assert [(s["segment"], s["revenue"], s["margin"]) for s in report["segments"]] == [
        ("smb", Decimal("100.00"), Decimal("40.00"))
    ]
    assert report["totals"]["revenue"] == Decimal("100.00")


def test_the_newest_segment_wins_whatever_the_order_of_arrival(dispatcher):
    dispatcher.dispatch(updated("c1", "enterprise", "2025-02-01T00:00"))
    dispatcher.dispatch(registered("c1", "smb", "2025-01-01T00:00", name="Wong"))
    dispatcher.dispatch(updated("c1", "retail", "2025-01-15T00:00"))
    with dispatcher.uow.reader() as s:
        customer = s.get(CustomerDim, "c1")
        assert (customer.segment, customer.name) == ("enterprise", "Wong")


def test_every_event_is_logged_once_in_wire_form(dispatcher):
    sold = sale("c1", "100.5", "60.25")
    # an event type without a contract here (customer.merged has one now) is kept as it came
    merged = Event(
        event_id="7b0c4a52-5d8e-4c59-9d3a-3f5cb1a0c001",
        event_type="customer.tagged",
        event_version=1,
        occurred_at=datetime.now(UTC),
        producer="customer",
        correlation_id="corr-1",
        causation_id=None,
        payload={"into": "c1", "merged": ["c2"]},
    )
    for event in (sold, merged, sold, registered("c1", "smb")):
        dispatcher.dispatch(event)
    assert count(dispatcher, EventLog) == 3
    with dispatcher.uow.reader() as s:
        logged = s.get(EventLog, sold.event_id)
        payload = json.loads(logged.payload)
        assert (payload["revenue"], payload["cost"]) == ("100.5", "60.25")
        assert payload["recorded_at"] == "2025-03-01T04:00:00+00:00"
        assert (logged.event_type, logged.producer) == ("sale.recorded", "sales")
        assert json.loads(s.get(EventLog, merged.event_id).payload) == merged.payload


def test_money_is_summed_exactly_and_currencies_never_mix(dispatcher):
    for n, (customer, amount, currency) in enumerate(
        [("c1", "12345678901.2345", "HKD"), ("c1", "0.0001", "HKD"), ("c1", "5", "USD")]
    ):
        dispatcher.dispatch(sale(customer, amount, "0", currency=currency, sale_id=f"s{n}"))
    with dispatcher.uow.reader() as s:
        stored = s.scalars(select(PnlDaily.revenue).order_by(PnlDaily.currency)).all()
    assert stored == [Decimal("12345678901.2346"), Decimal("5")]
    assert pnl(dispatcher, "USD")["totals"]["revenue"] == Decimal("5.00")


def test_figures_are_rounded_once_half_up_after_summing(dispatcher):
    dispatcher.dispatch(registered("c1", "smb"))
    dispatcher.dispatch(registered("c2", "smb"))
    dispatcher.dispatch(sale("c1", "0.0025", "0", sale_id="s1"))
    dispatcher.dispatch(sale("c2", "1.0025", "0.005", sale_id="s2"))
    smb = pnl(dispatcher)["segments"][0]
    # per row 0.0025 → 0.00 and 1.0025 → 1.00; summed first, 1.005 → 1.01 (half-up)
    assert (smb["revenue"], smb["cost"], smb["margin"]) == (
        Decimal("1.01"),
        Decimal("0.01"),
        Decimal("1.00"),
    )


def test_rebuilding_from_the_log_reproduces_the_read_models(dispatcher):
    for event in (
        sale("c1", "100", "60"),
        registered("c1", "smb"),
        updated("c1", "vip", "2025-02-01T00:00"),
        completed("2025-03-01T04:00"),
        scheduled("2025-03-01T04:00"),
        sale("c2", "7.5", "1", sale_id="s2"),
    ):
        dispatcher.dispatch(event)
    before = pnl(dispatcher), activity(dispatcher, "2025-03-01", "2025-03-01")
    with dispatcher.uow() as work:
        assert projections.rebuild(work.session, HK) == 6
    assert (pnl(dispatcher), activity(dispatcher, "2025-03-01", "2025-03-01")) == before
    assert [s["segment"] for s in before[0]["segments"]] == ["unknown", "vip"]


def test_fields_newer_than_our_contract_are_logged_as_received(dispatcher):
    if "wire_payload" not in Event.__dataclass_fields__:
        pytest.skip("this shared/ does not keep the received payload yet")
    wire = json.loads(sale("c1", "10", "4").to_json())
    wire["payload"]["channel"] = "web"  # an optional field added by a newer producer
    event = parse_event(json.dumps(wire))
    dispatcher.dispatch(event)
    with dispatcher.uow.reader() as s:
        assert json.loads(s.get(EventLog, event.event_id).payload)["channel"] == "web"
