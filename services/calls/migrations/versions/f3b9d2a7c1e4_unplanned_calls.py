"""calls.plan_id nullable: an inbound or unplanned call belongs to no plan

Revision ID: f3b9d2a7c1e4
Revises: e7a3c5d1f9b2
Create Date: 2026-12-06 14:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "f3b9d2a7c1e4"
down_revision: str | Sequence[str] | None = "e7a3c5d1f9b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.alter_column("plan_id", existing_type=sa.String(length=36), nullable=True)


def downgrade() -> None:
    """Downgrade schema (fails while an inbound or unplanned call is stored)."""
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.alter_column("plan_id", existing_type=sa.String(length=36), nullable=False)
