"""The reporting service's consumer process: every event into the log and read models,
up to a thousand events per transaction."""
from services.reporting import config
from services.reporting.handlers import subscriptions
from services.reporting.models import Inbox, Outbox
from shared import migrations, process
from shared.db import Database
from shared.entrypoints import build_dispatcher
from shared.messaging.consumer import Consumer
from shared.messaging.topology import Names

# Reporting's per-window costs (the commit, the inbox look-up, one upsert per touched
# read-model row) favour larger windows than the other services'.
WINDOW = 1000


def main() -> None:
    settings = config.load()
    migrations.upgrade(settings.database_url, config.MIGRATIONS)
    db = Database(settings.database_url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    # REPORTING_WINDOW (default 1000) sets the window; the prefetch is twice it.
    window = int(settings.get("WINDOW", WINDOW))
    consumer = Consumer(settings.service, dispatcher, settings.amqp_url,
                        Names(settings.namespace), 2 * window, settings.delivery_limit,
                        window=window)
    process.run(settings, "consumer", consumer)


if __name__ == "__main__":
    main()
