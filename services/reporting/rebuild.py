"""Rebuild every read model from the event log: ``python -m services.reporting.rebuild``.

The read models are emptied and the whole log replayed through the same
projections the consumer runs, in one transaction: readers see the old models
until it commits (on PostgreSQL), then the rebuilt ones. ``--check`` rebuilds,
compares the result row for row with the live models, prints the tables that
differ and rolls back; it exits 1 if any differ.

Settings come from the environment as for every reporting process
(``REPORTING_DATABASE_URL``, ``REPORTING_TIMEZONE``).
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import or_, select

from services.reporting import config
from services.reporting.agents import performance
from services.reporting.agents.tables import AgentCube
from services.reporting.calls.tables import ActivityCube
from services.reporting.events import projections
from services.reporting.pnl import booking
from services.reporting.pnl.tables import PnlCube
from services.reporting.read_models import READ_MODELS
from services.reporting.sales import tables as deals
from services.reporting.store import year_to_date
from shared import migrations
from shared.db import Database

# Tables whose row of zeros counts as no row, by their amounts: a P&L segment move
# leaves one only where another entry netted to zero; a deal's figures moved by a
# later event (an earlier stage change, its segment or currency) leave one behind;
# a planned or cancelled call moved by its assignment leaves one under the old
# holder (the activity cube's too: an assignment before its call leaves none).
ZERO_IS_NO_ROW = {
    PnlCube: booking.AMOUNTS,
    **deals.COUNTS,
    AgentCube: performance.COUNTS + performance.SUMS,
    ActivityCube: performance.COUNTS,
}


def snapshot(session) -> dict:
    """Every read model's rows, sorted, as plain tuples (see ``ZERO_IS_NO_ROW``)."""
    out = {}
    for model in READ_MODELS:
        table = model.__table__
        query = select(table)
        if model in ZERO_IS_NO_ROW:
            query = query.where(or_(*(table.c[name] != 0 for name in ZERO_IS_NO_ROW[model])))
        out[table.name] = sorted((tuple(row) for row in session.execute(query)), key=repr)
    return out


def folded_snapshot(session) -> dict:
    """``snapshot`` with the year-to-date entries still pending spread first, as the
    consumer would when idle: equal read models may differ in what is pending."""
    year_to_date.fold(session)
    return snapshot(session)


def differences(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


class _Checked(Exception):
    """Raised to roll the check's rebuild back."""


def rebuild(db: Database, zone, check: bool = False) -> tuple[int, list[str]]:
    """Rebuild in one transaction; with ``check``, compare with the live models and
    roll back. Returns (events replayed, tables that differ)."""
    result = (0, [])
    try:
        with db.transaction() as session:
            live = folded_snapshot(session) if check else None
            replayed = projections.rebuild(session, zone)
            if not check:
                year_to_date.fold(session)
                result = (replayed, [])
                return result
            projections.settle(session)
            result = (replayed, differences(live, folded_snapshot(session)))
            raise _Checked()
    except _Checked:
        pass
    return result


def main(argv=None, env=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare the rebuilt models with the live ones, then roll back",
    )
    options = parser.parse_args(argv)
    settings = config.load(env)
    migrations.upgrade(settings.database_url, config.MIGRATIONS)
    db = Database(settings.database_url)
    try:
        replayed, differing = rebuild(db, config.timezone(settings), options.check)
    finally:
        db.dispose()
    print(f"replayed {replayed} events from the event log")
    if options.check:
        print(
            "rebuilt read models equal the live ones"
            if not differing
            else f"rebuilt read models differ from the live ones in: {', '.join(differing)}"
        )
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
