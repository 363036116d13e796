"""periodic_jobs: the service's periodic work (shared.periodic), first the taking up
of import jobs whose process stopped; sale_import_jobs.owner: the run that has a
job (shared.import_jobs)

Revision ID: e5c1b7d3f9a2
Revises: d8e3f1a6b2c9
Create Date: 2026-12-07 01:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.types

# revision identifiers, used by Alembic.
revision: str = "e5c1b7d3f9a2"
down_revision: str | Sequence[str] | None = "d8e3f1a6b2c9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "periodic_jobs",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("every_seconds", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_run_at", shared.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=120), nullable=True),
        sa.Column("lease_until", shared.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_started_at", shared.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", shared.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=20), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.add_column("sale_import_jobs", sa.Column("owner", sa.String(length=120), nullable=True))
    op.add_column(
        "sale_import_jobs",
        sa.Column("takeovers", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("sale_import_jobs") as batch:
        batch.drop_column("takeovers")
        batch.drop_column("owner")
    op.drop_table("periodic_jobs")
