"""Fixtures for the sales tests: a migrated app and the consumer's dispatcher on the
same database, and builders of the events sales consumes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.sales import config
from services.sales.app import create_app
from services.sales.db import Inbox, Outbox
from services.sales.handlers import prepare, subscriptions
from shared.entrypoints import build_dispatcher
from shared.events import make_event


@pytest.fixture
def sales_app(service_app, database_url):
    """The sales app on SQLite and again on PostgreSQL."""
    app = service_app(create_app, config.MIGRATIONS, database_url)
    yield app
    app.extensions["rapport"].db.dispose()


@pytest.fixture
def lite_app(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url)


def dispatcher_for(app):
    """The dispatcher as the consumer process builds it (its ``prepare`` included)."""
    settings = app.extensions["rapport"].settings
    return build_dispatcher(
        settings, app.extensions["rapport"].db, Outbox, Inbox, subscriptions(settings), prepare
    )


def registered(customer_id="c1", segment="smb", name="Chan Tai Man", **kw):
    return make_event(
        "customer.registered",
        {
            "customer_id": customer_id,
            "name": name,
            "segment": segment,
            "registered_at": datetime.now(UTC),
            **kw,
        },
        producer="customer",
    )


def local_today() -> str:
    """Today where the sales service counts days (a call completed now falls on it;
    the machine's own date is a day behind from 16:00 UTC)."""
    return datetime.now(ZoneInfo(config.DEFAULT_TIMEZONE)).date().isoformat()


def completed(customer_id="c1", outcome="reached", cost="12.50", call_id=None, **kw):
    payload = {
        "call_id": call_id or str(uuid.uuid4()),
        "customer_id": customer_id,
        "channel": "phone",
        "outcome": outcome,
        "completed_at": datetime.now(UTC),
        "cost": cost,
        "currency": "HKD",
        "team": "east",
        "agent_kind": "staff",
        "agent_id": "a1",
        "segment": "smb",
        **kw,
    }
    return make_event("call.completed", payload, producer="calls")
