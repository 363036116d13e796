"""The retention command: erase now every profile neither updated nor contacted for
the given number of days (``erasure.erase_expired``), as the relay's daily
``retention-erasure`` job does. A module of its own so the API never loads the
migrations it runs first."""

from __future__ import annotations

import argparse

from services.customer import config
from services.customer.privacy import erasure
from services.customer.tables import IdempotencyKey, Outbox
from shared import migrations
from shared.db import Database
from shared.messaging.unit_of_work import UnitOfWorkFactory


def main(argv=None) -> int:
    """``python -m services.customer.privacy.retention --retention-days N``: erase
    every profile past the retention period now (the relay process does it daily by
    itself: the ``retention-erasure`` periodic job)."""
    parser = argparse.ArgumentParser(description=main.__doc__.split("\n")[0])
    parser.add_argument("--retention-days", type=int, required=True)
    args = parser.parse_args(argv)
    settings = config.load()
    migrations.upgrade(settings.database_url, config.MIGRATIONS)
    db = Database(settings.database_url)
    uow = UnitOfWorkFactory(db, Outbox, config.SERVICE, IdempotencyKey)
    print(f"erased {erasure.erase_expired(uow, args.retention_days)} profiles")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
