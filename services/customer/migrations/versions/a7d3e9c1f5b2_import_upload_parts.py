"""An unfinished import job's upload kept in the database (import_upload_parts)

Revision ID: a7d3e9c1f5b2
Revises: 9626b36c7fc2
Create Date: 2026-12-07 16:00:00.000000

The upload was only in the data folder of the process that took it; a process that
took a stopped job up in another pod (its own data folder) found no file and failed
the job. The upload is now also stored here, in parts, until its job ends
(shared.import_uploads). Jobs registered before this revision have no parts and run
from their file as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a7d3e9c1f5b2"
down_revision: str | Sequence[str] | None = "9626b36c7fc2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: a new table; no row changes."""
    op.create_table(
        "import_upload_parts",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["import_jobs.id"]),
        sa.PrimaryKeyConstraint("job_id", "seq"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("import_upload_parts")
