"""The ledger's totals per local day and currency (ledger_days)

Revision ID: a7d2c4e81f30
Revises: c3a9e2f7d5b4
Create Date: 2026-12-06 13:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.types

# revision identifiers, used by Alembic.
revision: str = "a7d2c4e81f30"
down_revision: str | Sequence[str] | None = "c3a9e2f7d5b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNTS = ("revenue", "discounts", "returns", "cost_of_goods", "cost_to_serve", "allocations")


def upgrade() -> None:
    """Upgrade schema: the table, filled with the summary's sums per day and currency
    at revision 0 (published by the next write of each day: the ledger publishes
    nothing until then)."""
    op.create_table(
        "ledger_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        *(sa.Column(name, shared.types.Money(), nullable=False) for name in AMOUNTS),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "currency"),
    )
    sums = ", ".join(f"SUM({name})" for name in AMOUNTS)
    op.execute(
        f"INSERT INTO ledger_days (day, currency, {', '.join(AMOUNTS)}, calls, revision) "
        f"SELECT day, currency, {sums}, SUM(calls), 0 FROM pnl_daily "
        f"GROUP BY day, currency"
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("ledger_days")
