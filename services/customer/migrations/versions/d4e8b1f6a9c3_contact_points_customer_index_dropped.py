"""contact_points: ix_contact_points_customer_id dropped; the unique constraint on
(customer_id, kind, value) begins with customer_id and serves every look-up by it,
and the second index cost each new contact point one more B-tree insert

Revision ID: d4e8b1f6a9c3
Revises: c7f3a9e1d2b4
Create Date: 2026-12-07 05:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "d4e8b1f6a9c3"
down_revision: str | Sequence[str] | None = "c7f3a9e1d2b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_contact_points_customer_id", table_name="contact_points")


def downgrade() -> None:
    op.create_index(
        "ix_contact_points_customer_id", "contact_points", ["customer_id"], unique=False
    )
