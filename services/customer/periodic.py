"""The customer service's periodic work, run by its relay process once across
replicas (``shared.periodic``); operators see and set it at ``/api/v1/periodic-jobs``."""

from __future__ import annotations

from datetime import timedelta

from services.customer.imports import jobs as imports
from services.customer.imports.tables import ImportJob
from services.customer.privacy import erasure
from services.customer.tables import IdempotencyKey, Outbox
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory
from shared.metrics import ImportJobsCollector
from shared.periodic import Job
from shared.web import idempotency

DEFAULT_RETENTION_DAYS = 7 * 365


def retention_days(settings) -> int:
    """``CUSTOMER_RETENTION_DAYS``: a profile neither updated nor contacted for this
    long is erased (PDPO: kept no longer than its purpose needs)."""
    raw = settings.get("RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    days = int(raw)
    if days < 1:
        raise ValueError(f"RETENTION_DAYS must be at least 1, not {raw!r}")
    return days


def jobs(settings, db: Database) -> list[Job]:
    uow = UnitOfWorkFactory(db, Outbox, settings.service, IdempotencyKey)
    days = retention_days(settings)
    return [
        Job(
            "retention-erasure",
            lambda now: erasure.erase_expired(uow, days, now=now),
            timedelta(days=1),
            lease=timedelta(hours=2),
        ),
        Job(
            "dead-letter-erasure",
            lambda _now: erasure.scrub_dead_letters(uow, settings.amqp_url, settings.namespace),
            timedelta(minutes=5),
        ),
        # Import jobs whose process stopped are taken up here, each in a thread of
        # this process, from their committed progress (imports/jobs.py).
        Job(
            "resume-imports",
            lambda now: imports.resume_stale(uow, now),
            timedelta(minutes=1),
            lease=timedelta(minutes=1),
        ),
        idempotency.expiry_job(settings, db, IdempotencyKey),
    ]


def collectors(settings, db: Database) -> list:
    """The relay's gauges of the import jobs it takes up (``rapport_import_jobs``,
    ``rapport_import_job_idle_seconds``): a job no process takes up shows there."""
    return [ImportJobsCollector(settings.service, db, ImportJob)]
