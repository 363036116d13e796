"""Mark missed calls once and plan them again: ``python -m services.calls.entrypoints.sweep``."""

import json

from services.calls import config
from services.calls.calls import missed
from services.calls.db import Outbox
from shared import migrations
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory


def main() -> None:
    settings = config.load()
    migrations.upgrade(settings.database_url, config.MIGRATIONS)
    db = Database(settings.database_url)
    try:
        print(json.dumps(missed.sweep_missed(UnitOfWorkFactory(db, Outbox, settings.service))))
    finally:
        db.dispose()


if __name__ == "__main__":
    main()
