"""The reporting service's consumer process: every event into the log and read models,
up to a thousand events per transaction."""

import logging
import time

from services.reporting import config
from services.reporting.handlers import subscriptions
from services.reporting.store import year_to_date
from services.reporting.tables import Inbox, Outbox
from shared import migrations, process
from shared.db import Database
from shared.entrypoints import build_dispatcher
from shared.messaging.consumer import Consumer
from shared.messaging.dispatcher import Dispatcher
from shared.messaging.topology import Names

log = logging.getLogger(__name__)

# Reporting's per-window costs (the commit, the inbox look-up, one upsert per touched
# read-model row) favour larger windows than the other services'.
WINDOW = 1000
# Seconds of a backlog between two spreads of the pending year-to-date months: the
# longer, the more of a customer's entries are spread as one (a spread costs about
# as much whatever it holds, a row per customer and month to December), and the more
# pending rows a report reads meanwhile.
FOLD_EVERY = 60.0


def fold_pending(db: Database) -> int:
    """Spread the pending year-to-date months now, in a transaction of its own."""
    started = time.perf_counter()
    with db.transaction() as session:
        folded = year_to_date.fold(session)
    if folded:
        log.info(
            "spread %d pending year-to-date months in %.2fs", folded, time.perf_counter() - started
        )
    return folded


def build_consumer(
    settings,
    db: Database,
    dispatcher: Dispatcher,
    names: Names,
    window: int = WINDOW,
    fold_every: float = FOLD_EVERY,
) -> Consumer:
    """The consumer, with a prefetch of two windows, spreading the pending
    year-to-date months (``fold_pending``) when idle and at least every
    ``fold_every`` seconds of a backlog."""
    return Consumer(
        settings.service,
        dispatcher,
        settings.amqp_url,
        names,
        2 * window,
        settings.delivery_limit,
        window=window,
        idle=lambda: fold_pending(db),
        idle_every=fold_every,
    )


def main() -> None:
    settings = config.load()
    migrations.upgrade(settings.database_url, config.MIGRATIONS)
    db = Database(settings.database_url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    # REPORTING_WINDOW (default 1000) sets the window, the prefetch is twice it;
    # REPORTING_FOLD_SECONDS (default 60) how long a backlog goes between folds.
    consumer = build_consumer(
        settings,
        db,
        dispatcher,
        Names(settings.namespace),
        int(settings.get("WINDOW", WINDOW)),
        float(settings.get("FOLD_SECONDS", FOLD_EVERY)),
    )
    process.run(settings, "consumer", consumer)


if __name__ == "__main__":
    main()
