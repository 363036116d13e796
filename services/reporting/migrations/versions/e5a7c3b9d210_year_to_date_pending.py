"""Entries of the year-to-date roll-ups not spread yet (customer_ytd_pending,
pnl_ytd_pending)

Revision ID: e5a7c3b9d210
Revises: d4b8e2f61a95
Create Date: 2026-11-30 18:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.types

# revision identifiers, used by Alembic.
revision: str = "e5a7c3b9d210"
down_revision: str | Sequence[str] | None = "d4b8e2f61a95"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CUSTOMER = ("planned", "calls", "contacts", "sat_n", "sat_sum", "prop_n", "prop_sum")
AMOUNTS = ("revenue", "discounts", "returns", "cost_of_goods", "cost_to_serve", "allocations")
# (table, key before the month, sums)
PENDING = (
    ("customer_ytd_pending", (), CUSTOMER),
    ("pnl_ytd_pending", ("currency",), AMOUNTS + ("sales",)),
)


def upgrade() -> None:
    """Upgrade schema: empty tables, keyed as the year-to-date ones (every entry so
    far is spread already)."""
    for table, before, sums in PENDING:
        op.create_table(
            table,
            *(sa.Column(k, sa.String(length=3), nullable=False) for k in before),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("customer_id", sa.String(length=64), nullable=False),
            *(
                sa.Column(
                    name, shared.types.Money() if name in AMOUNTS else sa.Integer(), nullable=False
                )
                for name in sums
            ),
            sa.PrimaryKeyConstraint(*before, "month", "customer_id"),
            sqlite_with_rowid=False,
        )


def downgrade() -> None:
    """Downgrade schema: what is still pending is spread into the year-to-date rows
    first (each month's sums added to its row and the later ones of its year), as
    the consumer would have."""
    conn = op.get_bind()
    for table, before, sums in reversed(PENDING):
        keys = before + ("customer_id",)
        source, target = (
            sa.table(
                name,
                *(sa.column(k, sa.String()) for k in keys),
                sa.column("month", sa.Date()),
                *(sa.column(v, sa.BigInteger()) for v in sums),
            )
            for name in (table, table[: -len("_pending")])
        )
        spread: dict = {}
        for row in conn.execute(sa.select(source)).mappings():
            key = tuple(row[k] for k in keys)
            for number in range(row["month"].month, 13):
                into = spread.setdefault(
                    key + (row["month"].replace(month=number),), dict.fromkeys(sums, 0)
                )
                for name in sums:
                    into[name] += row[name]
        for values, amounts in spread.items():
            where = [target.c[k] == v for k, v in zip(keys + ("month",), values)]
            added = conn.execute(
                sa.update(target)
                .where(*where)
                .values({name: target.c[name] + amount for name, amount in amounts.items()})
            )
            if not added.rowcount:
                conn.execute(
                    sa.insert(target).values({**dict(zip(keys + ("month",), values)), **amounts})
                )
        op.drop_table(table)
