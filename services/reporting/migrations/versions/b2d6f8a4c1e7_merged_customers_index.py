"""Customers merged into a customer, found by index (customer_facts.merged_into)

Revision ID: b2d6f8a4c1e7
Revises: a8c5e2f17b43
Create Date: 2026-12-06 14:10:00.000000

A customer's P&L segment change now also moves the customers merged into it
(``pnl_book``), which are looked up by ``merged_into``. If customers were merged
before this upgrade, run the rebuild once (``python -m services.reporting.rebuild``):
their history then counts under their survivors' segments.
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b2d6f8a4c1e7"
down_revision: str | Sequence[str] | None = "a8c5e2f17b43"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("customer_facts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_facts_merged_into"), ["merged_into"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("customer_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_facts_merged_into"))
