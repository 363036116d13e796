"""The calls service's consumer process: keeps the customer projection current."""
from services.calls import config
from services.calls.handlers import SUBSCRIPTIONS
from services.calls.models import Inbox, Outbox
from shared.entrypoints import run_consumer

if __name__ == "__main__":
    run_consumer(config.load(), config.MIGRATIONS, Outbox, Inbox, SUBSCRIPTIONS)
