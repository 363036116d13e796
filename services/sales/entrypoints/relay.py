"""The sales service's outbox relay process, which also runs its periodic work."""

from services.sales import config, periodic
from services.sales.db import Outbox, PeriodicJob
from shared.entrypoints import run_relay

if __name__ == "__main__":
    run_relay(
        config.load(),
        config.MIGRATIONS,
        Outbox,
        PeriodicJob,
        periodic.jobs,
        periodic.collectors,
    )
