"""The findings cubes' sums in 64 bits (findings_cube, findings_month)

Revision ID: d2384ee847d8
Revises: d7f3b9e2a4c6
Create Date: 2026-12-07 04:56:56.117110

A checklist's square is up to 10⁶ per call (compliance in whole per-mille): on
PostgreSQL, whose ``integer`` is 32-bit, a cell of 2,147 calls overflowed and every
later event for it failed. SQLite stores integers in 64 bits either way; there the
tables are rebuilt with the new declared types and the same rows.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "d2384ee847d8"
down_revision: str | Sequence[str] | None = "d7f3b9e2a4c6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("findings_cube", "findings_month")
SUMS = ("sat_sum", "sat_sq", "prop_sum", "prop_sq", "chk_sum", "chk_sq")


def _retype(old, new) -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            for column in SUMS:
                batch.alter_column(column, existing_type=old, type_=new, existing_nullable=False)


def upgrade() -> None:
    """Upgrade schema: the sums become BIGINT; no row changes."""
    _retype(sa.Integer(), sa.BigInteger())


def downgrade() -> None:
    """Downgrade schema: back to INTEGER (fails on PostgreSQL if a sum no longer fits)."""
    _retype(sa.BigInteger(), sa.Integer())
