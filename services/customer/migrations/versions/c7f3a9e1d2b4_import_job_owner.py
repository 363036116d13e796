"""import_jobs.owner: the run that has an import job, so that a job whose process
stopped is taken up by one other process (shared.import_jobs); takeovers: how often
that happened to it

Revision ID: c7f3a9e1d2b4
Revises: e6b2c8d0a4f1
Create Date: 2026-12-07 01:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c7f3a9e1d2b4"
down_revision: str | Sequence[str] | None = "e6b2c8d0a4f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("import_jobs", sa.Column("owner", sa.String(length=120), nullable=True))
    op.add_column(
        "import_jobs", sa.Column("takeovers", sa.Integer(), nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_column("takeovers")
        batch.drop_column("owner")
