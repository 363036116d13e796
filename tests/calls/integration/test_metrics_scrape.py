"""A scrape of the calls relay's /metrics never fails and never hangs on its database:
a table locked by a migration on PostgreSQL or a database that is down costs the
scrape the business gauges, which come back once the database does."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from services.calls.db import Outbox, PeriodicJob
from services.calls.metrics import CallsCollector
from shared.db import Database
from shared.metrics import OutboxCollector, PeriodicJobsCollector, exposition
from tests.calls.helpers import build_app, create_plan, project, schedule

BUSINESS = {
    "rapport_calls_due_today_calls",
    "rapport_calls_unassignable_calls",
    "rapport_followups_overdue_calls",
    "rapport_calls_consent_refused_calls",
    "rapport_partner_sla_hours",
    "rapport_coverage_targeted_customers",
    "rapport_coverage_compliant_customers",
}


def scraped_names(collectors) -> set[str]:
    body, _ = exposition(collectors)
    return {family.name for family in text_string_to_metric_families(body.decode())}


@pytest.mark.postgres
def test_a_scrape_answers_in_time_while_a_migration_holds_the_calls_table(
    service_app, postgres_database
):
    app = build_app(service_app, postgres_database)
    client = app.test_client()
    project(app, "c1")
    schedule(client, create_plan(client)["id"], days=7)
    db = app.extensions["rapport"].db
    collectors = [CallsCollector("calls", db, 0, 0), OutboxCollector("calls", db, Outbox)]
    assert scraped_names(collectors) >= BUSINESS  # every query runs on PostgreSQL too
    locker = create_engine(postgres_database)
    with locker.connect() as held:
        held.execute(text("LOCK TABLE calls, outbox IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        names = scraped_names(collectors)
        assert time.monotonic() - started < 10
        assert not BUSINESS & names and "rapport_outbox_pending_events" not in names
        assert "python_info" in names  # the rest of the scrape is there
        held.rollback()
    locker.dispose()
    assert BUSINESS | {"rapport_outbox_pending_events"} <= scraped_names(collectors)


def test_a_scrape_answers_while_the_database_is_down():
    down = Database("postgresql+psycopg://postgres@127.0.0.1:9/nowhere?connect_timeout=2")
    try:
        names = scraped_names(
            [
                CallsCollector("calls", down, 0, 0),
                OutboxCollector("calls", down, Outbox),
                PeriodicJobsCollector("calls", down, PeriodicJob),
            ]
        )
    finally:
        down.dispose()
    # What the collectors read from the database is absent; counters and gauges the
    # process keeps itself (the extension pass's consent refusals) may still show.
    assert not {
        n
        for n in names
        if n.startswith(("rapport_calls", "rapport_coverage", "rapport_periodic_job_interval"))
        and n != "rapport_calls_consent_refused_slots"
    }
