"""Competitor mentions under every dimension of the call (competitor_cube replaces
competitor_daily)

Revision ID: a7d2c4e8f913
Revises: e5a7c3b9d210
Create Date: 2026-12-06 13:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "a7d2c4e8f913"
down_revision: str | Sequence[str] | None = "e5a7c3b9d210"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: the new table is created empty, since the old one never knew a
    mention's channel, team, agent kind or partner; run the rebuild once
    (``python -m services.reporting.rebuild``) to fill it from the event log."""
    op.create_table(
        "competitor_cube",
        sa.Column("competitor", sa.String(length=120), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("agent_kind", sa.String(length=16), nullable=False),
        sa.Column("partner_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint(
            "competitor", "day", "segment", "channel", "team", "agent_kind", "partner_id"
        ),
    )
    op.drop_table("competitor_daily")


def downgrade() -> None:
    """Downgrade schema: the old table is the new one summed over the dimensions it
    did not have, so nothing is lost going back."""
    op.create_table(
        "competitor_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
        sa.Column("competitor", sa.String(length=120), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "segment", "competitor"),
    )
    cube = sa.table(
        "competitor_cube",
        sa.column("day", sa.Date()),
        sa.column("segment", sa.String()),
        sa.column("competitor", sa.String()),
        sa.column("mentions", sa.Integer()),
    )
    daily = sa.table("competitor_daily", *(sa.column(c.name, c.type) for c in cube.c))
    keys = (cube.c.day, cube.c.segment, cube.c.competitor)
    op.get_bind().execute(
        sa.insert(daily).from_select(
            ["day", "segment", "competitor", "mentions"],
            sa.select(*keys, sa.func.sum(cube.c.mentions)).group_by(*keys),
        )
    )
    op.drop_table("competitor_cube")
