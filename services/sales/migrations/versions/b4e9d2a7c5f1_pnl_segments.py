"""The segment each customer's P&L counts under (pnl_segments); the summary's rows
moved to it

Revision ID: b4e9d2a7c5f1
Revises: a7d2c4e81f30
Create Date: 2026-12-06 14:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b4e9d2a7c5f1"
down_revision: str | Sequence[str] | None = "a7d2c4e81f30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OTHERS = ("day", "currency", "customer_id", "product", "channel", "team", "agent_kind")
COLUMNS = (
    "revenue",
    "discounts",
    "returns",
    "cost_of_goods",
    "cost_to_serve",
    "allocations",
    "calls",
)


def upgrade() -> None:
    """Upgrade schema: each customer of the summary gets its known segment
    (``unknown`` if none), and its rows are summed under it, as if every entry had
    been booked under the segment the customer is in now. Day totals
    (``ledger_days``) do not change."""
    op.create_table(
        "pnl_segments",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.execute(
        "INSERT INTO pnl_segments (customer_id, segment) "
        "SELECT d.customer_id, COALESCE(MAX(c.segment), 'unknown') FROM pnl_daily d "
        "LEFT JOIN customers c ON c.customer_id = d.customer_id GROUP BY d.customer_id"
    )
    others = ", ".join(f"d.{name}" for name in OTHERS)
    sums = ", ".join(f"SUM(d.{name}) AS {name}" for name in COLUMNS)
    op.execute(
        f"CREATE TABLE pnl_daily_regrouped AS SELECT {others}, s.segment, {sums} "
        f"FROM pnl_daily d JOIN pnl_segments s ON s.customer_id = d.customer_id "
        f"GROUP BY {others}, s.segment"
    )
    op.execute("DELETE FROM pnl_daily")
    names = ", ".join((*OTHERS, "segment", *COLUMNS))
    op.execute(f"INSERT INTO pnl_daily ({names}) SELECT {names} FROM pnl_daily_regrouped")
    op.drop_table("pnl_daily_regrouped")


def downgrade() -> None:
    """Downgrade schema. The summary's rows stay under the segment they were moved to:
    the segment each entry was booked with is in the ledger, not kept here."""
    op.drop_table("pnl_segments")
