"""The calls service's periodic work, run by its relay process once across replicas
(``shared.periodic``); operators see and set it at ``/api/v1/periodic-jobs``."""

from __future__ import annotations

from datetime import timedelta

from services.calls.calls import missed
from services.calls.db import IdempotencyKey, Outbox
from services.calls.notifications import delivery as deliveries
from services.calls.notifications import owed as notifications
from services.calls.notifications import webhooks
from services.calls.people import continuous_assignment as continuous
from services.calls.plans import rolling
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory
from shared.periodic import Job
from shared.web import idempotency


def jobs(settings, db: Database) -> list[Job]:
    uow = UnitOfWorkFactory(db, Outbox, settings.service)
    # In this order: when several are due in one tick they run as listed, so the
    # calls planned by the first two are assigned by the third in the same tick. A
    # pass of extend-schedules also makes assign-calls due when it is done, for when
    # another replica ran assign-calls meanwhile.
    return [
        # Every active plan's calls kept planned its horizon ahead (docs/calls.md).
        Job(
            "extend-schedules",
            lambda now: rolling.extend_schedules(uow, now),
            timedelta(minutes=15),
            then=("assign-calls",),
        ),
        # Calls whose window has closed are marked missed and planned again.
        Job("missed-calls", lambda now: missed.sweep_missed(uow, now), timedelta(minutes=1)),
        # Open calls due within the lead time assigned, the previous agent first.
        Job("assign-calls", continuous.job(uow, settings), timedelta(minutes=1)),
        # Webhook deliveries sent, retried with backoff (docs/calls.md, Webhooks).
        Job(
            "deliver-webhooks",
            lambda now: deliveries.deliver_due(
                db,
                now,
                linger=deliveries.LINGER_SECONDS,
                private_ok=webhooks.allow_private(settings),
            ),
            timedelta(seconds=1),
            lease=timedelta(minutes=1),
        ),
        # Each callback announced once when it falls due.
        Job(
            "callback-due",
            lambda now: notifications.announce_due_callbacks(uow, now),
            timedelta(minutes=1),
        ),
        idempotency.expiry_job(settings, db, IdempotencyKey),
    ]
