"""Scheduling runs through the driver-level bulk path, on SQLite and PostgreSQL:
what they write equals an independent computation, the events match their calls,
and values that need escaping (COPY on PostgreSQL) come back as they went in."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.calls.calls.tables import Call
from services.calls.customers.tables import Consent, Customer
from services.calls.plans import policy, scheduling
from services.calls.plans.tables import CallPlan
from shared.bulk_writes import driver_value, insert_prepared
from shared.events import parse_event
from tests.calls.helpers import build_app, counts, create_plan, outbox

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)
AWKWARD = ["tab\there", "new\nline", "back\\slash", "\\N", 'qu"ote', "caf\u00e9 \u5ba2"]


@pytest.fixture
def app(service_app, database_url):
    app = build_app(service_app, database_url)
    yield app
    app.extensions["rapport"].db.dispose()


def seed(app, customers: list[tuple[str, str, str]], granted: set[str]) -> None:
    """(id, segment, status) customers, and marketing consent for ``granted``."""
    with app.extensions["rapport"].uow() as work:
        work.session.add_all(
            Customer(customer_id=c, name=c, segment=s, lifecycle_status=st, updated_at=NOW, gaps=[])
            for c, s, st in customers
        )
        work.session.add_all(
            Consent(
                customer_id=c,
                channel="phone",
                purpose="insurance",
                status="granted",
                changed_at=NOW,
            )
            for c in granted
        )


def stored_calls(app) -> list[Call]:
    with app.extensions["rapport"].db.reader() as session:
        return list(session.scalars(select(Call)))


def test_a_run_writes_exactly_the_consented_targets_slots_once(app, monkeypatch):
    monkeypatch.setattr(scheduling, "ROWS_PER_TRANSACTION", 900)
    customers = [
        (f"c{i:05d}", "smb" if i % 7 else "enterprise", "archived" if i % 11 == 0 else "active")
        for i in range(3000)
    ]
    customers += [(name, "smb", "active") for name in AWKWARD]
    granted = {c for c, _, _ in customers[:3000] if int(c[1:]) % 3} | set(AWKWARD)
    seed(app, customers, granted)
    client = app.test_client()
    plan = create_plan(client, purpose="insurance", rrule="FREQ=WEEKLY;BYDAY=TU;BYHOUR=11")
    with app.extensions["rapport"].db.reader() as session:
        stored = session.get(CallPlan, plan["id"])
    first = scheduling.schedule_plan(app.extensions["rapport"].uow, plan["id"], 60)
    slots = scheduling.due_slots(stored, NOW, NOW + timedelta(days=60))
    targets = [c for c, s, st in customers if s == "smb" and st == "active"]
    wanted = {(c, due, end) for c in targets if c in granted for due, end in slots}
    calls = stored_calls(app)
    assert {(c.customer_id, c.due_at, c.window_end) for c in calls} == wanted
    assert len(calls) == len(wanted) == first["created"]
    assert first["no_consent"] == len([c for c in targets if c not in granted]) * len(slots)
    assert all(
        (
            c.plan_id,
            c.status,
            c.kind,
            c.attempt,
            c.for_role,
            c.plan_version,
            c.purpose,
            c.priority,
            c.channel,
        )
        == (
            plan["id"],
            "scheduled",
            "planned",
            0,
            "agent",
            1,
            "insurance",
            plan["priority"],
            "phone",
        )
        for c in calls
    )
    events = {e.payload["call_id"]: e for e in map(parse_event, (r.body for r in outbox(app)))}
    assert set(events) == {c.id for c in calls}
    for call in calls:
        payload = events[call.id].payload
        assert (
            payload["customer_id"],
            payload["due_at"],
            payload["window_end"],
            payload["segment"],
        ) == (call.customer_id, call.due_at, call.window_end, "smb")
    again = scheduling.schedule_plan(app.extensions["rapport"].uow, plan["id"], 60)
    assert (again["created"], again["existing"]) == (0, len(wanted))
    assert counts(app) == (1, len(wanted), len(wanted))


def test_driver_rows_read_back_as_they_were_written(app):
    when = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    with app.extensions["rapport"].uow() as work:
        connection = work.session.connection()
        column = Customer.__table__.c
        stamp = driver_value(connection, column.updated_at, when)
        insert_prepared(
            connection,
            Customer.__table__,
            ("customer_id", "segment", "name", "lifecycle_status", "updated_at", "gaps"),
            [(f"k{i}", text, None, "active", stamp, "[]") for i, text in enumerate(AWKWARD)],
        )
    with app.extensions["rapport"].db.reader() as session:
        found = {c.customer_id: c for c in session.scalars(select(Customer))}
    assert [
        (found[f"k{i}"].segment, found[f"k{i}"].name, found[f"k{i}"].updated_at)
        for i in range(len(AWKWARD))
    ] == [(text, None, when) for text in AWKWARD]
    assert found["k0"].gaps == []


def test_the_cap_holds_across_chunks_and_regeneration(app, monkeypatch):
    monkeypatch.setattr(scheduling, "ROWS_PER_TRANSACTION", 500)
    ids = [f"k{i:04d}" for i in range(1200)]
    seed(app, [(c, "smb", "active") for c in ids], set())
    uow = app.extensions["rapport"].uow
    policy.set_policy(uow, 2, 7)
    plan = create_plan(
        app.test_client(), rrule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0", allow_holidays=True
    )
    first = scheduling.schedule_plan(uow, plan["id"], 28)
    with app.extensions["rapport"].db.reader() as session:
        slots = scheduling.due_slots(
            session.get(CallPlan, plan["id"]), NOW, NOW + timedelta(days=28)
        )
    # Slots are a day apart: at most 2 in any 7 days keeps the 1st and 2nd of each week.
    kept = {due for i, (due, _) in enumerate(slots) if i % 7 in (0, 1)}
    by_customer = {}
    for call in stored_calls(app):
        by_customer.setdefault(call.customer_id, set()).add(call.due_at)
    assert by_customer == dict.fromkeys(ids, kept)
    assert (first["created"], first["capped"]) == (
        len(ids) * len(kept),
        len(ids) * (len(slots) - len(kept)),
    )
    again = scheduling.schedule_plan(uow, plan["id"], 28)
    assert again == {
        "created": 0,
        "existing": first["created"],
        "no_consent": 0,
        "capped": first["capped"],
    }
