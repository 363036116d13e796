"""The relay's gauges of import jobs: unfinished jobs by status, and the time the
least recently active has gone without progress (what ``RapportImportStalled``
alerts on), read from the jobs' table when scraped."""

import uuid
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from services.customer import config, periodic
from services.customer.imports.tables import ImportJob
from shared import migrations
from shared.clock import utcnow
from shared.db import Database
from shared.metrics import exposition


def _scraped(settings, db) -> dict:
    body, _ = exposition(periodic.collectors(settings, db))
    return {
        (sample.name, sample.labels.get("status")): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
        if sample.name.startswith("rapport_import_job")
    }


def _job(status: str, created_ago: timedelta, beat_ago: timedelta | None) -> ImportJob:
    now = utcnow()
    return ImportJob(
        id=str(uuid.uuid4()),
        format="csv",
        path="/x.csv",
        actor="t",
        status=status,
        created_at=now - created_ago,
        heartbeat_at=None if beat_ago is None else now - beat_ago,
    )


def test_unfinished_jobs_and_the_longest_without_progress(database_url):
    url = database_url
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    db = Database(url)
    quiet = _scraped(settings, db)
    assert quiet == {
        ("rapport_import_jobs", "queued"): 0,
        ("rapport_import_jobs", "running"): 0,
        ("rapport_import_job_idle_seconds", None): 0,
    }
    with db.transaction() as s:
        s.add(_job("running", timedelta(hours=1), timedelta(seconds=5)))  # committing
        s.add(_job("running", timedelta(hours=2), timedelta(minutes=25)))  # its process gone
        s.add(_job("queued", timedelta(minutes=3), None))  # not started yet
        s.add(_job("done", timedelta(days=2), timedelta(days=2)))  # ended: not counted
    got = _scraped(settings, db)
    assert got[("rapport_import_jobs", "running")] == 2
    assert got[("rapport_import_jobs", "queued")] == 1
    assert 25 * 60 <= got[("rapport_import_job_idle_seconds", None)] < 26 * 60
    db.dispose()
