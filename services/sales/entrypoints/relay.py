"""The sales service's outbox relay process."""

from services.sales import config
from services.sales.db import Outbox
from shared.entrypoints import run_relay

if __name__ == "__main__":
    run_relay(config.load(), config.MIGRATIONS, Outbox)
