"""Publish the ledger's stored day totals again:
``python -m services.sales.pnl.republish_totals [--from DAY] [--to DAY]``.

Every ledger write publishes its days' totals by itself; this is for days whose
totals were never published (those filled by migration ``a7d2c4e81f30`` from the
summary kept before) or that a consumer lost. Each day goes out with the next
revision, in one transaction, through the outbox. Settings as for every sales
process (``SALES_DATABASE_URL``, ``SALES_TIMEZONE``).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from services.sales import config
from services.sales.pnl import day_totals
from shared import migrations
from shared.db import Database


def main(argv=None, env=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="start", type=date.fromisoformat, default=None)
    parser.add_argument("--to", dest="end", type=date.fromisoformat, default=None)
    options = parser.parse_args(argv)
    settings = config.load(env)
    migrations.upgrade(settings.database_url, config.MIGRATIONS)
    db = Database(settings.database_url)
    try:
        with db.transaction() as session:
            days = day_totals.republish(
                session, config.timezone(settings), options.start, options.end
            )
    finally:
        db.dispose()
    print(f"published the totals of {days} days again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
