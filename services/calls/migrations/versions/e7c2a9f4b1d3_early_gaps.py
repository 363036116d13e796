"""early_gaps and customers.gaps_at: gaps that arrive before their customer, and the
time of the finding a customer's gaps come from

Revision ID: e7c2a9f4b1d3
Revises: e7a3c5f1d9b2
Create Date: 2026-12-06 13:55:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.types

# revision identifiers, used by Alembic.
revision: str = "e7c2a9f4b1d3"
down_revision: str | Sequence[str] | None = "e7a3c5f1d9b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "early_gaps",
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("detected_at", shared.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("gaps_at", shared.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("gaps_at")
    op.drop_table("early_gaps")
