"""The calls service's outbox relay process, which also runs its periodic work and
serves its business gauges (``services.calls.metrics``)."""

from services.calls import config, metrics, periodic
from services.calls.db import Outbox, PeriodicJob
from shared.entrypoints import run_relay

if __name__ == "__main__":
    run_relay(
        config.load(), config.MIGRATIONS, Outbox, PeriodicJob, periodic.jobs, metrics.collectors
    )
