"""Rolling schedule: a plan's horizon, status (active, paused, ended) and the version
its calls ahead were last aligned with; a call cancelled by a plan change frees its
(plan, customer, due) slot

Revision ID: e7a3c5f1d9b2
Revises: e7a3c1f9d5b2
Create Date: 2026-12-06 14:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e7a3c5f1d9b2"
down_revision: str | Sequence[str] | None = "e7a3c1f9d5b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDS_SLOT = (
    "(cancel_reason IS NULL OR cancel_reason NOT IN ('plan_changed', 'plan_paused', 'plan_ended'))"
)


def upgrade() -> None:
    """Upgrade schema: existing plans are active, with the 30-day horizon the event
    handlers used, and aligned with their current version."""
    with op.batch_alter_table("call_plans", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("horizon_days", sa.Integer(), server_default="30", nullable=False)
        )
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="active", nullable=False)
        )
        batch_op.add_column(
            sa.Column("aligned_version", sa.Integer(), server_default="1", nullable=False)
        )
    op.execute("UPDATE call_plans SET aligned_version = version")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint("uq_calls_plan_customer_due", type_="unique")
    op.create_index(
        "uq_calls_plan_customer_due",
        "calls",
        ["plan_id", "customer_id", "due_at"],
        unique=True,
        sqlite_where=sa.text(HOLDS_SLOT),
        postgresql_where=sa.text(HOLDS_SLOT),
    )


def downgrade() -> None:
    """Downgrade schema (fails if a plan change left two calls in one slot)."""
    op.drop_index("uq_calls_plan_customer_due", table_name="calls")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_calls_plan_customer_due", ["plan_id", "customer_id", "due_at"]
        )
    with op.batch_alter_table("call_plans", schema=None) as batch_op:
        batch_op.drop_column("aligned_version")
        batch_op.drop_column("status")
        batch_op.drop_column("horizon_days")
