"""Import jobs keep their upload's correlation id (sale_import_jobs.correlation_id)

Revision ID: af0c90842c87
Revises: e5c1b7d3f9a2
Create Date: 2026-12-07 05:13:15.000000

A job taken up by another process after its own stopped wrote its events under that
process's correlation, not the upload request's. Jobs from before this revision have
none stored and keep the old behaviour.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "af0c90842c87"
down_revision: str | Sequence[str] | None = "e5c1b7d3f9a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: a nullable column; no row changes."""
    with op.batch_alter_table("sale_import_jobs") as batch:
        batch.add_column(sa.Column("correlation_id", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("sale_import_jobs") as batch:
        batch.drop_column("correlation_id")
