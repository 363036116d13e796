"""The customer service's outbox relay process."""
from services.customer import config
from services.customer.models import Outbox
from shared.entrypoints import run_relay

if __name__ == "__main__":
    run_relay(config.load(), config.MIGRATIONS, Outbox)
