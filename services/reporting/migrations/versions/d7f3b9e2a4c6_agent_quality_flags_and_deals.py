"""Per-agent quality flags and deals: agent_cube.flagged, .deals, .deals_won;
agent_flag (day × every call dimension × agent × rule); opportunity_call keeps the
rest of the call's agent_cube key (channel, team, agent kind, partner, agent)

Revision ID: d7f3b9e2a4c6
Revises: c6e2a8f4b1d3
Create Date: 2026-12-06 16:40:00.000000

The new counts start at zero: after upgrading, run the rebuild once
(``python -m services.reporting.rebuild``) to count the flags and deals of earlier
calls from the event log (calls completed before the calls service sent
``quality_flags`` count as not flagged).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "d7f3b9e2a4c6"
down_revision: str | Sequence[str] | None = "c6e2a8f4b1d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIMENSIONS = ("day", "segment", "channel", "team", "agent_kind", "partner_id", "agent_id")
AGENT_KEY = (
    ("channel", 16),
    ("team", 64),
    ("agent_kind", 16),
    ("partner_id", 64),
    ("agent_id", 64),
)


def upgrade() -> None:
    with op.batch_alter_table("agent_cube", schema=None) as batch_op:
        for name in ("flagged", "deals", "deals_won"):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "agent_flag",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("agent_kind", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "rule"),
    )
    with op.batch_alter_table("opportunity_call", schema=None) as batch_op:
        for name, length in AGENT_KEY:
            batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("opportunity_call", schema=None) as batch_op:
        for name, _ in reversed(AGENT_KEY):
            batch_op.drop_column(name)
    op.drop_table("agent_flag")
    with op.batch_alter_table("agent_cube", schema=None) as batch_op:
        for name in ("deals_won", "deals", "flagged"):
            batch_op.drop_column(name)
