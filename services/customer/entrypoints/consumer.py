"""The customer service's consumer process."""
from services.customer import config
from services.customer.handlers import SUBSCRIPTIONS, lock_customers
from services.customer.tables import Inbox, Outbox
from shared.entrypoints import run_consumer

if __name__ == "__main__":
    run_consumer(config.load(), config.MIGRATIONS, Outbox, Inbox, SUBSCRIPTIONS,
                 prepare=lock_customers)
