"""The customers each stored idempotent answer concerns (idempotency_keys.subjects),
so that an erasure finds and forgets its subject's answers

Revision ID: b2f8d1e6c4a3
Revises: 2ca664988c56
Create Date: 2026-12-06 13:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "b2f8d1e6c4a3"
down_revision: str | Sequence[str] | None = "2ca664988c56"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: answers stored before have none recorded (NULL); an erasure
    finds those by their content."""
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subjects", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("subjects")
