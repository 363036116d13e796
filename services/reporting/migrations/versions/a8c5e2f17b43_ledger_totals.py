"""The sales ledger's published totals per day and currency (ledger_totals)

Revision ID: a8c5e2f17b43
Revises: a7d2c4e8f913
Create Date: 2026-12-06 13:30:00.000000

After upgrading, run the rebuild once (``python -m services.reporting.rebuild``):
call costs are now counted as the ledger books them, each rounded to the cent,
and a cancellation takes back its sale's discount; the P&L tables filled before
hold the old figures.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.types

# revision identifiers, used by Alembic.
revision: str = "a8c5e2f17b43"
down_revision: str | Sequence[str] | None = "a7d2c4e8f913"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNTS = (
    "revenue",
    "discounts",
    "returns",
    "cost_of_goods",
    "cost_to_serve",
    "allocations",
    "net_contribution",
)


def upgrade() -> None:
    """Upgrade schema: empty; filled as the ledger publishes (or by a rebuild from
    the log)."""
    op.create_table(
        "ledger_totals",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        *(sa.Column(name, shared.types.Money(), nullable=False) for name in AMOUNTS),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("currency", "day"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("ledger_totals")
