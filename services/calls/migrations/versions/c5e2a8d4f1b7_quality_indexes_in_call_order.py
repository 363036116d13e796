"""the quality rules' indexes end with the call id: an agent's calls in (end, id) order

The rules page an agent's completed calls ordered by (completed_at, id), and count
those of the last hour up to a limit. With indexes on (agent, completed_at) alone,
each look-up read and sorted every call of the agent after the call's start, so a
busy agent made every outcome cost more; with the id in the index, each reads a
page and stops.

Revision ID: c5e2a8d4f1b7
Revises: b4d8f2a6c3e9
Create Date: 2026-12-07 14:00:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c5e2a8d4f1b7"
down_revision: str | Sequence[str] | None = "b4d8f2a6c3e9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COMPLETED = sa.text("completed_at IS NOT NULL")
_INDEXES = (
    ("ix_calls_agent_completed", "agent_id"),
    ("ix_calls_completer_completed", "completed_by"),
)


def _replace(columns_after: tuple[str, ...]) -> None:
    for name, who in _INDEXES:
        op.drop_index(name, table_name="calls")
        op.create_index(
            name,
            "calls",
            [who, "completed_at", *columns_after],
            unique=False,
            sqlite_where=_COMPLETED,
            postgresql_where=_COMPLETED,
        )


def upgrade() -> None:
    _replace(("id",))


def downgrade() -> None:
    _replace(())
