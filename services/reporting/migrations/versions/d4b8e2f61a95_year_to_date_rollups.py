"""Year-to-date roll-ups per customer (customer_ytd, pnl_ytd) replace the monthly ones;
activity day totals (activity_day, outcome_day)

Revision ID: d4b8e2f61a95
Revises: c3e1a9d4f7b2
Create Date: 2026-11-30 11:00:00.000000

"""

from collections.abc import Sequence
from datetime import date
from itertools import groupby

import sqlalchemy as sa
from alembic import op

import shared.types

# revision identifiers, used by Alembic.
revision: str = "d4b8e2f61a95"
down_revision: str | Sequence[str] | None = "c3e1a9d4f7b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CUSTOMER = ("planned", "calls", "contacts", "sat_n", "sat_sum", "prop_n", "prop_sum")
AMOUNTS = ("revenue", "discounts", "returns", "cost_of_goods", "cost_to_serve", "allocations")
PNL = AMOUNTS + ("sales",)
# (monthly table, year-to-date table, key before the month, sums)
ROLLUPS = (
    ("customer_month", "customer_ytd", ("customer_id",), CUSTOMER),
    ("pnl_month", "pnl_ytd", ("currency", "customer_id"), PNL),
)
BATCH = 5000
ACTIVITY = ("planned", "completed", "missed", "cancelled", "on_time")


def _sums(names):
    return [
        sa.Column(name, shared.types.Money() if name in AMOUNTS else sa.Integer(), nullable=False)
        for name in names
    ]


def _keys(keys):
    return [
        sa.Column(k, sa.String(length=3 if k == "currency" else 64), nullable=False) for k in keys
    ]


def _table(name, keys, values):
    """A lightweight table with money as its stored ten-thousandths (plain integers)."""
    return sa.table(
        name,
        *(sa.column(k, sa.String()) for k in keys),
        sa.column("month", sa.Date()),
        *(sa.column(v, sa.BigInteger()) for v in values),
    )


def upgrade() -> None:
    """Upgrade schema.

    The year-to-date tables are filled from the monthly ones, which hold the same
    entries by month, so no rebuild is needed; the monthly ones are then dropped.
    Keyed month first, with the customer last: a report reads one month's rows."""
    for monthly, ytd, keys, values in ROLLUPS:
        key = keys[:-1] + ("month", "customer_id")
        op.create_table(
            ytd,
            *_keys(keys[:-1]),
            sa.Column("month", sa.Date(), nullable=False),
            *_keys(("customer_id",)),
            *_sums(values),
            sa.PrimaryKeyConstraint(*key),
            sqlite_with_rowid=False,
        )
        _fill(_table(monthly, keys, values), _table(ytd, keys, values), keys, values)
        op.drop_table(monthly)
    _day_totals()


def _day_totals() -> None:
    """The activity cube and the findings cube's calls by outcome summed over every
    dimension, filled from the cubes (a row where the cube has any for the day)."""
    op.create_table(
        "activity_day",
        sa.Column("day", sa.Date(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in ACTIVITY],
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "outcome_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "outcome"),
    )
    sums = ", ".join(f"SUM({name})" for name in ACTIVITY)
    op.execute(
        f"INSERT INTO activity_day (day, {', '.join(ACTIVITY)}) "
        f"SELECT day, {sums} FROM activity_cube GROUP BY day"
    )
    op.execute(
        "INSERT INTO outcome_day (day, outcome, calls) "
        "SELECT day, outcome, SUM(calls) FROM findings_cube GROUP BY day, outcome"
    )


def _fill(source, target, keys, values) -> None:
    """Year-to-date sums of ``source``'s monthly rows: from a customer's first month of
    each year to December, as the projections write them."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            *(source.c[k] for k in keys), source.c.month, *(source.c[v] for v in values)
        ).order_by(*(source.c[k] for k in keys), source.c.month)
    ).all()
    batch, zeros = [], [0] * len(values)
    for (key, year), group in groupby(rows, lambda r: (tuple(r[: len(keys)]), r[len(keys)].year)):
        by_month = {row[len(keys)].month: row[len(keys) + 1 :] for row in group}
        running = zeros
        for month in range(min(by_month), 13):
            running = [a + (b or 0) for a, b in zip(running, by_month.get(month, zeros))]
            batch.append(
                {
                    **dict(zip(keys, key)),
                    "month": date(year, month, 1),
                    **dict(zip(values, running)),
                }
            )
        if len(batch) >= BATCH:
            conn.execute(sa.insert(target), batch)
            batch = []
    if batch:
        conn.execute(sa.insert(target), batch)


def downgrade() -> None:
    """Downgrade schema: the monthly tables again, each month the difference of the
    year-to-date rows (a month whose entries netted to zero has no row but the
    first of a year: run the rebuild for those)."""
    op.drop_table("outcome_day")
    op.drop_table("activity_day")
    for monthly, ytd, keys, values in ROLLUPS:
        op.create_table(
            monthly,
            *_keys(keys),
            sa.Column("month", sa.Date(), nullable=False),
            *_sums(values),
            sa.PrimaryKeyConstraint(*keys, "month"),
            sqlite_with_rowid=False,
        )
        source, target = _table(ytd, keys, values), _table(monthly, keys, values)
        rows = (
            op.get_bind()
            .execute(sa.select(source).order_by(*(source.c[k] for k in keys), source.c.month))
            .all()
        )
        out, last, width = [], None, len(keys)
        for row in rows:
            first = not (
                last and last[:width] == row[:width] and last[width].year == row[width].year
            )
            change = [
                a - (0 if first else b)
                for a, b in zip(row[width + 1 :], (last or row)[width + 1 :])
            ]
            if first or any(change):
                out.append(
                    {
                        **dict(zip(keys, row[:width])),
                        "month": row[width],
                        **dict(zip(values, change)),
                    }
                )
            last = row
        for start in range(0, len(out), BATCH):
            op.get_bind().execute(sa.insert(target), out[start : start + BATCH])
        op.drop_table(ytd)
