"""Sales carry an external reference (unique); bulk sale import jobs and their
rejected rows

Revision ID: d8e3f1a6b2c9
Revises: b4e9d2a7c5f1
Create Date: 2026-12-06 16:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.types

# revision identifiers, used by Alembic.
revision: str = "d8e3f1a6b2c9"
down_revision: str | Sequence[str] | None = "b4e9d2a7c5f1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema. The column is added in place (``ALTER TABLE … ADD COLUMN`` on
    SQLite too, not a batch copy), so the ledger's append-only triggers stay; the
    existing sales have no reference."""
    op.add_column("sales", sa.Column("external_ref", sa.String(length=100), nullable=True))
    op.create_index("ux_sales_external_ref", "sales", ["external_ref"], unique=True)
    op.create_table(
        "sale_import_jobs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("total_bytes", sa.Integer(), nullable=False),
        sa.Column("bytes_read", sa.Integer(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("sales_read", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("lines_created", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", shared.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", shared.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", shared.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "sale_import_rejections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["sale_import_jobs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sale_import_rejections_job_line",
        "sale_import_rejections",
        ["job_id", "line"],
        unique=False,
    )


def downgrade() -> None:
    """Downgrade schema. Dropping the column on SQLite recreates the ledger table, so
    its append-only triggers are taken off before and put back after."""
    from services.sales import append_only

    op.drop_index("ix_sale_import_rejections_job_line", table_name="sale_import_rejections")
    op.drop_table("sale_import_rejections")
    op.drop_table("sale_import_jobs")
    op.drop_index("ux_sales_external_ref", table_name="sales")
    connection = op.get_bind()
    append_only.remove(connection)
    with op.batch_alter_table("sales") as batch:
        batch.drop_column("external_ref")
    append_only.install(connection)
