"""The sales service's consumer process."""

from services.sales import config
from services.sales.db import Inbox, Outbox
from services.sales.handlers import prepare, subscriptions
from shared.entrypoints import run_consumer

if __name__ == "__main__":
    settings = config.load()
    run_consumer(
        settings, config.MIGRATIONS, Outbox, Inbox, subscriptions(settings), prepare=prepare
    )
