"""The rolling schedule on SQLite and PostgreSQL through the bulk path: passes that
race each other (no lease between them) plan each slot once, and a pause then a
resumption plans the cancelled slots again beside the cancelled calls."""

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.plans import rolling, scheduling
from shared.events import parse_event
from tests.calls.helpers import build_app, create_plan, outbox
from tests.conftest import auth

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)


@pytest.fixture
def app(service_app, database_url):
    app = build_app(service_app, database_url)
    yield app
    app.extensions["rapport"].db.dispose()


def live_slots(app) -> list[tuple[str, datetime]]:
    with app.extensions["rapport"].db.reader() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Call.customer_id, Call.due_at).where(Call.status == "scheduled")
            )
        ]


def test_racing_passes_plan_every_slot_once_and_a_resumed_plan_plans_them_again(app, monkeypatch):
    monkeypatch.setattr(scheduling, "ROWS_PER_TRANSACTION", 500)
    with app.extensions["rapport"].uow() as work:
        work.session.add_all(
            Customer(
                customer_id=f"c{i:04d}",
                name="x",
                segment="smb",
                lifecycle_status="active",
                updated_at=NOW,
                gaps=[],
            )
            for i in range(1500)
        )
    client = app.test_client()
    plan = create_plan(
        client, rrule="FREQ=WEEKLY;BYDAY=TU;BYHOUR=11", horizon_days=21, allow_holidays=True
    )
    uow = app.extensions["rapport"].uow
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(rolling.extend_schedules(uow)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slots = live_slots(app)
    assert len(slots) == len(set(slots)) == sum(r["created"] for r in results)
    assert len({due for _, due in slots}) in (3, 4) and len(slots) % 1500 == 0
    r = client.patch(f"/api/v1/call-plans/{plan['id']}", headers=auth(), json={"status": "paused"})
    assert r.status_code == 200 and live_slots(app) == []
    cancelled = [parse_event(row.body).payload for row in outbox(app, "call.cancelled")]
    assert len(cancelled) == len(slots) and {p["reason"] for p in cancelled} == {"plan_paused"}
    client.patch(f"/api/v1/call-plans/{plan['id']}", headers=auth(), json={"status": "active"})
    assert rolling.extend_schedules(uow)["created"] == len(slots)
    assert sorted(live_slots(app)) == sorted(slots)
    assert rolling.extend_schedules(uow)["created"] == 0
