"""The calls service's outbox relay process."""
from services.calls import config
from services.calls.models import Outbox
from shared.entrypoints import run_relay

if __name__ == "__main__":
    run_relay(config.load(), config.MIGRATIONS, Outbox)
