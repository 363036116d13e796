"""The customer service's outbox relay process, which also runs its periodic work."""

from services.customer import config, periodic
from services.customer.tables import Outbox, PeriodicJob
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
