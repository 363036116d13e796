"""customers: e-mail, address, relationship score and satisfaction trend, the
context the agent's call page shows (from customer events)

Revision ID: f3b9d2a6c8e1
Revises: f3b9d2a7c1e4
Create Date: 2026-12-06 14:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "f3b9d2a6c8e1"
down_revision: str | Sequence[str] | None = "f3b9d2a7c1e4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("address", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("relationship_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("satisfaction_trend", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        for name in ("satisfaction_trend", "relationship_score", "address", "email"):
            batch_op.drop_column(name)
