"""P&L roll-ups by segment and by customer-month, findings and scores by month

Revision ID: c3e1a9d4f7b2
Revises: b557d956d336
Create Date: 2026-11-30 08:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.types

# revision identifiers, used by Alembic.
revision: str = "c3e1a9d4f7b2"
down_revision: str | Sequence[str] | None = "b557d956d336"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CUSTOMER_MONTH = ("planned", "calls", "contacts", "sat_n", "sat_sum", "prop_n", "prop_sum")
DIMS = ("day", "segment", "channel", "team", "agent_kind", "partner_id")
FINDINGS = (
    "calls",
    "sat_n",
    "sat_sum",
    "sat_sq",
    "prop_n",
    "prop_sum",
    "prop_sq",
    "chk_n",
    "chk_sum",
    "chk_sq",
)
AMOUNTS = ("revenue", "discounts", "returns", "cost_of_goods", "cost_to_serve", "allocations")


def _dims():
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("agent_kind", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
    ]


def _amounts():
    return [sa.Column(name, shared.types.Money(), nullable=False) for name in AMOUNTS] + [
        sa.Column("sales", sa.Integer(), nullable=False)
    ]


def upgrade() -> None:
    """Upgrade schema.

    The new tables start empty: after upgrading a database that already holds
    events, fill them from the event log with ``python -m services.reporting.rebuild``."""
    op.create_table(
        "pnl_cube",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        *_amounts(),
        sa.PrimaryKeyConstraint("currency", "day", "segment"),
    )
    op.create_table(
        "pnl_month",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *_amounts(),
        sa.PrimaryKeyConstraint("currency", "customer_id", "month"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "customer_segment",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_table(
        "findings_month",
        *_dims(),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in FINDINGS],
        sa.PrimaryKeyConstraint(*DIMS, "outcome"),
    )
    op.create_table(
        "score_month",
        *_dims(),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*DIMS, "measure", "bucket"),
    )
    with op.batch_alter_table("pnl_daily", schema=None) as batch_op:
        batch_op.create_index("ix_pnl_daily_customer_id", ["customer_id"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        _recreate_customer_month(with_rowid=False)


def _recreate_customer_month(with_rowid: bool) -> None:
    """On SQLite, customer_month clustered by its key (WITHOUT ROWID): the
    call-effectiveness report reads it a customer at a time. Rows are kept."""
    op.create_table(
        "customer_month_new",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in CUSTOMER_MONTH],
        sa.PrimaryKeyConstraint("customer_id", "month"),
        sqlite_with_rowid=with_rowid,
    )
    names = ", ".join(("customer_id", "month") + CUSTOMER_MONTH)
    op.execute(f"INSERT INTO customer_month_new ({names}) SELECT {names} FROM customer_month")
    op.drop_table("customer_month")
    op.rename_table("customer_month_new", "customer_month")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "sqlite":
        _recreate_customer_month(with_rowid=True)
    with op.batch_alter_table("pnl_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_pnl_daily_customer_id")
    op.drop_table("score_month")
    op.drop_table("findings_month")
    op.drop_table("customer_segment")
    op.drop_table("pnl_month")
    op.drop_table("pnl_cube")
