"""Helpers shared by the calls tests: a migrated app, the projection, row counts."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from services.calls import config
from services.calls.app import create_app
from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.db import Outbox
from services.calls.plans.tables import CallPlan
from tests.conftest import auth

WEEKLY = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0"
PAST = "2024-01-01T00:00:00+08:00"


def build_app(service_app, url, **settings):
    return service_app(create_app, config.MIGRATIONS, url, **settings)


def project(app, *ids: str, segment: str = "smb", status: str = "active") -> None:
    """Put customers in the projection, as the customer events would."""
    with app.extensions["rapport"].uow() as work:
        for customer_id in ids:
            work.session.add(
                Customer(
                    customer_id=customer_id,
                    name=f"Customer {customer_id}",
                    segment=segment,
                    lifecycle_status=status,
                    updated_at=datetime.now(UTC),
                )
            )


def counts(app) -> tuple[int, int, int]:
    """Plans, calls and outbox rows."""
    with app.extensions["rapport"].db.reader() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model)) for model in (CallPlan, Call, Outbox)
        )


def outbox(app, event_type: str | None = None) -> list[Outbox]:
    query = select(Outbox).order_by(Outbox.id)
    if event_type:
        query = query.where(Outbox.event_type == event_type)
    with app.extensions["rapport"].db.reader() as s:
        return list(s.scalars(query))


def create_plan(client, **fields) -> dict:
    body = {
        "name": "SMB weekly",
        "segment": "smb",
        "channel": "phone",
        "rrule": WEEKLY,
        "starts_at": PAST,
        **fields,
    }
    body = {name: value for name, value in body.items() if value is not None}
    r = client.post("/api/v1/call-plans", headers=auth(), json=body)
    assert r.status_code == 201, r.json
    return r.json


def schedule(client, plan_id: str, days: int = 28, role: str = "manager"):
    return client.post(
        f"/api/v1/call-plans/{plan_id}/schedule", headers=auth(role), json={"horizon_days": days}
    )


def calls_of(client, **filters) -> list[dict]:
    """Every call matching the filters, following the cursor."""
    items, cursor = [], None
    while True:
        query = {**filters, "limit": 500, **({"cursor": cursor} if cursor else {})}
        r = client.get("/api/v1/calls", headers=auth("analyst"), query_string=query)
        assert r.status_code == 200, r.json
        items += r.json["items"]
        cursor = r.json["next_cursor"]
        if not cursor:
            return items


def dispatcher_for(app):
    """The consumer's dispatcher on the app's database (handlers + inbox, no broker)."""
    from services.calls.db import Inbox
    from services.calls.handlers import subscriptions
    from shared.entrypoints import build_dispatcher

    ctx = app.extensions["rapport"]
    settings = config.load({"DATABASE_URL": ctx.db.url, "DEV_MODE": "1"})
    return build_dispatcher(settings, ctx.db, Outbox, Inbox, subscriptions(settings))


def deliver(app, event_type: str, at: datetime | None = None, **payload):
    """Deliver one customer event as the consumer would; answers the event."""
    from shared.events import make_event

    event = make_event(
        event_type, payload, producer="customer", occurred_at=at or datetime.now(UTC)
    )
    assert dispatcher_for(app).dispatch(event)
    return event


def register(app, customer_id: str, segment: str = "smb", **extra):
    return deliver(
        app,
        "customer.registered",
        customer_id=customer_id,
        name=customer_id,
        segment=segment,
        registered_at=datetime.now(UTC),
        **extra,
    )


def consent(
    app,
    customer_id: str,
    status: str = "granted",
    channel: str = "phone",
    purpose: str = "insurance",
):
    return deliver(
        app,
        "customer.consent_changed",
        customer_id=customer_id,
        channel=channel,
        purpose=purpose,
        status=status,
        changed_at=datetime.now(UTC),
    )


def payloads(app, event_type: str) -> list[dict]:
    import json

    return [json.loads(row.body)["payload"] for row in outbox(app, event_type)]


TRAINED = [{"name": "pdpo", "expires_on": "2099-12-31"}]


def add_partner(client, name="CallCo", fee="25.00") -> dict:
    r = client.post("/api/v1/partners", headers=auth(), json={"name": name, "fee_per_call": fee})
    assert r.status_code == 201, r.json
    return r.json


def add_agent(client, agent_id, kind="staff", partner_id=None, **fields) -> dict:
    body = {
        "id": agent_id,
        "name": agent_id.title(),
        "kind": kind,
        "daily_capacity": 50,
        "languages": ["zh-HK", "en"],
        "segments": ["smb"],
        "channels": ["phone"],
        "trainings": TRAINED,
        **fields,
    }
    if kind == "staff":
        body.setdefault("rate_per_minute", "2.00")
    else:
        body["partner_id"] = partner_id
    r = client.post("/api/v1/agents", headers=auth(), json=body)
    assert r.status_code == 201, r.json
    return r.json


def assign(client, **body):
    r = client.post("/api/v1/calls/assign", headers=auth(), json=body)
    assert r.status_code == 200, r.json
    return r.json


def only_jobs(settings, db, *names):
    """The calls service's periodic jobs of these names alone (a test of one job
    runs it without the others changing what it looks at)."""
    from services.calls import periodic

    return [job for job in periodic.jobs(settings, db) if job.name in names]
