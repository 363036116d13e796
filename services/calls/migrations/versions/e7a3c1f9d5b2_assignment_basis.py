"""assignments.basis: why a call went to an agent or back to the pool, as a code
(continuity, round_robin, manual, agent_deactivated, training_expired, ...)

Revision ID: e7a3c1f9d5b2
Revises: d4e1a7c9b2f0
Create Date: 2026-12-06 14:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "e7a3c1f9d5b2"
down_revision: str | Sequence[str] | None = "d4e1a7c9b2f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("basis", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("basis")
