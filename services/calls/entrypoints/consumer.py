"""The calls service's consumer process: keeps the customer and consent projections
current, and every ``CALLS_SWEEP_SECONDS`` (default 60, 0 to turn off) marks the
calls whose window has closed as missed and plans them again."""
import logging
import threading

from services.calls import config, missed
from services.calls.handlers import SUBSCRIPTIONS
from services.calls.models import Inbox, Outbox
from shared.db import Database
from shared.entrypoints import run_consumer
from shared.messaging.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


def sweep_forever(settings, stop: threading.Event) -> None:
    seconds = float(settings.get("SWEEP_SECONDS", 60))
    if seconds <= 0:
        return
    db = Database(settings.database_url)
    uow = UnitOfWorkFactory(db, Outbox, settings.service)
    try:
        while not stop.wait(seconds):
            try:
                found = missed.sweep_missed(uow)
                if found["missed"]:
                    log.info("missed calls marked", extra=found)
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("missed-call sweep failed")
    finally:
        db.dispose()


def main() -> None:
    settings = config.load()
    stop = threading.Event()
    sweeper = threading.Thread(target=sweep_forever, args=(settings, stop), name="sweeper",
                               daemon=True)
    sweeper.start()
    try:
        run_consumer(settings, config.MIGRATIONS, Outbox, Inbox, SUBSCRIPTIONS)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
