"""Process mains shared by every service: migrate, then consume or relay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from shared import migrations, process
from shared.config import Settings
from shared.db import Database
from shared.messaging.consumer import Consumer
from shared.messaging.dispatcher import Dispatcher
from shared.messaging.relay import Relay
from shared.messaging.topology import Names
from shared.messaging.unit_of_work import UnitOfWorkFactory
from shared.metrics import OutboxCollector, PeriodicJobsCollector
from shared.periodic import Job, Scheduler


def build_dispatcher(
    settings: Settings, db: Database, outbox_model, inbox_model, subscriptions, prepare=None
) -> Dispatcher:
    uow = UnitOfWorkFactory(db, outbox_model, settings.service)
    return Dispatcher(settings.service, uow, inbox_model, subscriptions, prepare)


def run_consumer(
    settings: Settings, migrations_dir: Path, outbox_model, inbox_model, subscriptions, prepare=None
) -> None:
    """``prepare``: see ``Dispatcher`` (locks what a window's events concern)."""
    migrations.upgrade(settings.database_url, migrations_dir)
    db = Database(settings.database_url)
    dispatcher = build_dispatcher(settings, db, outbox_model, inbox_model, subscriptions, prepare)
    consumer = Consumer(
        settings.service,
        dispatcher,
        settings.amqp_url,
        Names(settings.namespace),
        settings.prefetch,
        settings.delivery_limit,
    )
    process.run(settings, "consumer", consumer)


def run_relay(
    settings: Settings,
    migrations_dir: Path,
    outbox_model,
    periodic_model=None,
    jobs: Callable[[Settings, Database], list[Job]] | None = None,
    collectors: Callable[[Settings, Database], list] | None = None,
) -> None:
    """The relay process; a service with periodic work (``jobs``, over the
    ``periodic_model`` table) runs its scheduler in the same process, and its
    ``/metrics`` carries the service's business gauges (``collectors``)."""
    migrations.upgrade(settings.database_url, migrations_dir)
    db = Database(settings.database_url)
    relay = Relay(
        settings.service,
        db,
        outbox_model,
        settings.amqp_url,
        Names(settings.namespace),
        settings.relay_batch,
        settings.relay_poll_seconds,
    )
    background = []
    scraped: list[object] = [OutboxCollector(settings.service, db, outbox_model)]
    if jobs is not None:
        scraped.append(PeriodicJobsCollector(settings.service, db, periodic_model))
        background.append(
            Scheduler(
                settings.service,
                db,
                periodic_model,
                jobs(settings, db),
                settings,
                tick=float(settings.get("PERIODIC_TICK_SECONDS", 1)),
            )
        )
    if collectors is not None:
        scraped += collectors(settings, db)
    process.run(settings, "relay", relay, scraped, background=background)
