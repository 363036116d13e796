"""The sales service's consumer process."""
from services.sales import config
from services.sales.handlers import SUBSCRIPTIONS
from services.sales.models import Inbox, Outbox
from shared.entrypoints import run_consumer

if __name__ == "__main__":
    run_consumer(config.load(), config.MIGRATIONS, Outbox, Inbox, SUBSCRIPTIONS)
