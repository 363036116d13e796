"""The customer service's consumer process."""

from services.customer import config
from services.customer.handlers import lock_customers, subscriptions
from services.customer.tables import Inbox, Outbox
from shared.entrypoints import run_consumer

if __name__ == "__main__":
    settings = config.load()
    run_consumer(
        settings, config.MIGRATIONS, Outbox, Inbox, subscriptions(settings), prepare=lock_customers
    )
