"""The reporting service's consumer process: every event into the log and read models."""
from services.reporting import config
from services.reporting.handlers import subscriptions
from services.reporting.models import Inbox, Outbox
from shared.entrypoints import run_consumer

if __name__ == "__main__":
    settings = config.load()
    run_consumer(settings, config.MIGRATIONS, Outbox, Inbox, subscriptions(settings))
