"""the quality rules' indexes end with the call id: an agent's calls in (end, id) order

The rules page an agent's completed calls ordered by (completed_at, id), and count
those of the last hour up to a limit. With indexes on (agent, completed_at) alone,
each look-up read and sorted every call of the agent after the call's start, so a
busy agent made every outcome cost more; with the id in the index, each reads a
page and stops.

On PostgreSQL the indexes are rebuilt concurrently: a large ``calls`` table keeps
taking outcomes while they build.

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
    if op.get_bind().dialect.name == "postgresql":
        _replace_online(columns_after)
        return
    for name, who in _INDEXES:
        op.drop_index(name, table_name="calls")
        op.create_index(
            name,
            "calls",
            [who, "completed_at", *columns_after],
            unique=False,
            sqlite_where=_COMPLETED,
        )


def _replace_online(columns_after: tuple[str, ...]) -> None:
    """On PostgreSQL, without holding writes to ``calls`` while an index builds: each
    new index is built beside the old one (``CREATE INDEX CONCURRENTLY``, outside a
    transaction), the old one dropped the same way, and the new one renamed. A build
    an interrupted upgrade left behind (invalid) is dropped first."""
    with op.get_context().autocommit_block():
        for name, who in _INDEXES:
            building = f"{name}_building"
            op.drop_index(
                building, table_name="calls", postgresql_concurrently=True, if_exists=True
            )
            op.create_index(
                building,
                "calls",
                [who, "completed_at", *columns_after],
                unique=False,
                postgresql_where=_COMPLETED,
                postgresql_concurrently=True,
            )
            op.drop_index(name, table_name="calls", postgresql_concurrently=True)
            op.execute(f"ALTER INDEX {building} RENAME TO {name}")


def upgrade() -> None:
    _replace(("id",))


def downgrade() -> None:
    _replace(())
