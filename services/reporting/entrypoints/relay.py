"""The reporting service's outbox relay process.

Reporting publishes nothing yet; the relay runs like every service's so that the
first event it emits needs no new process.
"""

from services.reporting import config
from services.reporting.tables import Outbox
from shared.entrypoints import run_relay

if __name__ == "__main__":
    run_relay(config.load(), config.MIGRATIONS, Outbox)
