"""periodic_jobs: the service's periodic work, its schedule, lease and last pass
(shared.periodic)

Revision ID: d4e1a7c9b2f0
Revises: b2f8d1e6c4a3
Create Date: 2026-12-06 13:45:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.types

# revision identifiers, used by Alembic.
revision: str = "d4e1a7c9b2f0"
down_revision: str | Sequence[str] | None = "b2f8d1e6c4a3"
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


def downgrade() -> None:
    op.drop_table("periodic_jobs")
