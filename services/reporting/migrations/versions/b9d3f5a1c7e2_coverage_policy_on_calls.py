"""call_state.plan_id and max_gap_days: each call's plan and that plan's coverage
policy, so customer_facts.overdue_since follows shared.coverage

Revision ID: b9d3f5a1c7e2
Revises: b8c4f1d2e6a7
Create Date: 2026-12-06 14:00:00.000000

After upgrading, run the rebuild once (``python -m services.reporting.rebuild``):
overdue_since is now the time a customer is due by (shared.coverage), and plan
adherence counts a call done in time on its due day; rows filled before hold the
old figures.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b9d3f5a1c7e2"
down_revision: str | Sequence[str] | None = "b8c4f1d2e6a7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("max_gap_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_state", schema=None) as batch_op:
        batch_op.drop_column("max_gap_days")
        batch_op.drop_column("plan_id")
