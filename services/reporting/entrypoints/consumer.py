"""The reporting service's consumer process: every event into the log and read models,
a full delivery window per transaction (``services.reporting.consumer``)."""
from services.reporting import config
from services.reporting.consumer import WINDOW, WindowedConsumer
from services.reporting.handlers import subscriptions
from services.reporting.models import Inbox, Outbox
from shared import migrations, process
from shared.db import Database
from shared.entrypoints import build_dispatcher
from shared.messaging.topology import Names


def main() -> None:
    settings = config.load()
    migrations.upgrade(settings.database_url, config.MIGRATIONS)
    db = Database(settings.database_url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    # REPORTING_WINDOW (default 1000) sets the window; the prefetch is twice it.
    consumer = WindowedConsumer(settings.service, dispatcher, settings.amqp_url,
                                Names(settings.namespace), int(settings.get("WINDOW", WINDOW)),
                                settings.delivery_limit)
    process.run(settings, "consumer", consumer)


if __name__ == "__main__":
    main()
