"""customers: external_ref, the reference another system knows a customer by, which
the workspace search finds (from customer events that carry it)

Revision ID: b4d8f2a6c3e9
Revises: b6d1f3a8c2e5
Create Date: 2026-12-06 16:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b4d8f2a6c3e9"
down_revision: str | Sequence[str] | None = "b6d1f3a8c2e5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_ref", sa.String(length=100), nullable=True))
        batch_op.create_index("ix_customers_external_ref", ["external_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_external_ref")
        batch_op.drop_column("external_ref")
