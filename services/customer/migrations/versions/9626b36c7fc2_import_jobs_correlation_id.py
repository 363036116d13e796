"""Import jobs keep their upload's correlation id (import_jobs.correlation_id)

Revision ID: 9626b36c7fc2
Revises: d4e8b1f6a9c3
Create Date: 2026-12-07 05:13:14.976246

A job taken up by another process after its own stopped wrote its events under that
process's correlation, not the upload request's. Jobs from before this revision have
none stored and keep the old behaviour.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "9626b36c7fc2"
down_revision: str | Sequence[str] | None = "d4e8b1f6a9c3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: a nullable column; no row changes."""
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(sa.Column("correlation_id", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_column("correlation_id")
