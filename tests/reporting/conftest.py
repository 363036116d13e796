"""Reporting fixtures: a dispatcher running the real handlers and inbox on a migrated
database, without a broker."""

import pytest

from services.reporting import config
from services.reporting.handlers import subscriptions
from services.reporting.tables import Inbox, Outbox
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher


@pytest.fixture
def make_dispatcher():
    """``make_dispatcher(url, **settings)``: migrate ``url`` and dispatch into it."""
    databases = []

    def build(url, **env):
        migrations.upgrade(url, config.MIGRATIONS)
        settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1", **env})
        databases.append(Database(url))
        return build_dispatcher(settings, databases[-1], Outbox, Inbox, subscriptions(settings))

    yield build
    for db in databases:
        db.dispose()


@pytest.fixture
def dispatcher(make_dispatcher, sqlite_url):
    return make_dispatcher(sqlite_url)
