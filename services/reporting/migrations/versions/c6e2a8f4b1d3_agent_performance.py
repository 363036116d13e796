"""Per-agent performance: agent_cube and agent_outcome (day × every call dimension ×
agent), and call_state.agent_id (who holds a call, so its planned count moves with
a reassignment)

Revision ID: c6e2a8f4b1d3
Revises: b9d3f5a1c7e2
Create Date: 2026-12-06 14:40:00.000000

The tables are created empty: after upgrading, run the rebuild once
(``python -m services.reporting.rebuild``) to fill them and call_state.agent_id from
the event log; until then the agents report shows nothing for earlier days.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "c6e2a8f4b1d3"
down_revision: str | Sequence[str] | None = "b9d3f5a1c7e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIMENSIONS = ("day", "segment", "channel", "team", "agent_kind", "partner_id", "agent_id")


def _dimensions() -> list:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("agent_kind", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
    ]


def upgrade() -> None:
    counts = (
        "planned",
        "completed",
        "missed",
        "cancelled",
        "on_time",
        "sat_n",
        "sat_sum",
        "prop_n",
        "prop_sum",
        "chk_n",
        "chk_full",
        "opportunities",
    )
    op.create_table(
        "agent_cube",
        *_dimensions(),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in counts),
        sa.PrimaryKeyConstraint(*DIMENSIONS),
    )
    op.create_table(
        "agent_outcome",
        *_dimensions(),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "outcome"),
    )
    with op.batch_alter_table("call_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("agent_id", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("call_state", schema=None) as batch_op:
        batch_op.drop_column("agent_id")
    op.drop_table("agent_outcome")
    op.drop_table("agent_cube")
