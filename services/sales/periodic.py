"""The sales service's periodic work, run by its relay process once across replicas
(``shared.periodic``); operators see and set it at ``/api/v1/periodic-jobs``."""

from __future__ import annotations

from datetime import timedelta

from services.sales import config
from services.sales.db import IdempotencyKey, Outbox
from services.sales.imports import jobs as imports
from services.sales.imports.tables import SaleImportJob
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory
from shared.metrics import ImportJobsCollector
from shared.periodic import Job
from shared.web import idempotency


def jobs(settings, db: Database) -> list[Job]:
    uow = UnitOfWorkFactory(db, Outbox, settings.service, IdempotencyKey)
    zone = config.timezone(settings)
    return [
        # Import jobs whose process stopped are taken up here, each in a thread of
        # this process, from their committed progress (imports/jobs.py).
        Job(
            "resume-imports",
            lambda now: imports.resume_stale(uow, zone, now),
            timedelta(minutes=1),
            lease=timedelta(minutes=1),
        ),
        idempotency.expiry_job(settings, db, IdempotencyKey),
    ]


def collectors(settings, db: Database) -> list:
    """The relay's gauges of the import jobs it takes up (``rapport_import_jobs``,
    ``rapport_import_job_idle_seconds``): a job no process takes up shows there."""
    return [ImportJobsCollector(settings.service, db, SaleImportJob)]
