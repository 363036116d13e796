"""Deal figures by local day, currency and segment (pipeline_change replaces
pipeline_stage; deal_funnel and stage_move gain currency and segment, stage_move a
day; deal_state keeps each deal's history; opportunity_call the sale-opportunity
calls deals come from)

Revision ID: b8c4f1d2e6a7
Revises: b2d6f8a4c1e7
Create Date: 2026-12-06 13:40:00.000000

"""

import json
from collections.abc import Sequence
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import shared.types

# revision identifiers, used by Alembic.
revision: str = "b8c4f1d2e6a7"
down_revision: str | Sequence[str] | None = "b2d6f8a4c1e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = ("day", "currency", "segment")


def _key_columns():
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("segment", sa.String(length=64), nullable=False),
    ]


def upgrade() -> None:
    """Upgrade schema: the new tables start empty and ``deal_state`` is emptied, since
    the old ones never knew a deal's segment, nor when a stage change happened or
    the stage a deal was in before; run the rebuild once
    (``python -m services.reporting.rebuild``) to fill them from the event log."""
    for name in ("pipeline_stage", "stage_move", "deal_funnel"):
        op.drop_table(name)
    op.create_table(
        "pipeline_change",
        *_key_columns(),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("value", shared.types.Money(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, "stage"),
    )
    op.create_table(
        "stage_move",
        *_key_columns(),
        sa.Column("from_stage", sa.String(length=16), nullable=False),
        sa.Column("to_stage", sa.String(length=16), nullable=False),
        sa.Column("moves", sa.Integer(), nullable=False),
        sa.Column("timed", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY, "from_stage", "to_stage"),
    )
    op.create_table(
        "deal_funnel",
        *_key_columns(),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "created",
                "from_calls",
                "from_opportunities",
                "won",
                "won_from_calls",
                "lost",
                "lost_from_calls",
                "cycles",
            )
        ),
        sa.Column("cycle_seconds", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*KEY),
    )
    op.create_table(
        "opportunity_call",
        sa.Column("call_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("segment", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("call_id"),
    )
    op.execute(sa.text("DELETE FROM deal_state"))
    with op.batch_alter_table("deal_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_call_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("segment", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("history", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_deal_state_customer_id"), ["customer_id"])
        batch_op.create_index(batch_op.f("ix_deal_state_source_call_id"), ["source_call_id"])


def downgrade() -> None:
    """Downgrade schema: the old tables are the new ones summed over what they did not
    have, and a deal's pipeline row is its newest stage, so nothing they held is lost."""
    bind = op.get_bind()
    op.create_table(
        "pipeline_stage",
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("value", shared.types.Money(), nullable=False),
        sa.PrimaryKeyConstraint("currency", "stage"),
    )
    change = sa.table(
        "pipeline_change", *(sa.column(n) for n in ("currency", "stage", "deals", "value"))
    )
    bind.execute(
        sa.insert(sa.table("pipeline_stage", *(sa.column(c.name) for c in change.c))).from_select(
            ["currency", "stage", "deals", "value"],
            sa.select(
                change.c.currency,
                change.c.stage,
                sa.func.sum(change.c.deals),
                sa.func.sum(change.c.value),
            ).group_by(change.c.currency, change.c.stage),
        )
    )
    _sum_into(
        "stage_move",
        ("from_stage", "to_stage"),
        ("moves", "timed", "seconds"),
        [
            sa.Column("from_stage", sa.String(length=16), nullable=False),
            sa.Column("to_stage", sa.String(length=16), nullable=False),
            *(sa.Column(n, sa.Integer(), nullable=False) for n in ("moves", "timed", "seconds")),
        ],
    )
    counts = ("created", "from_calls", "won", "won_from_calls", "lost", "cycles", "cycle_seconds")
    _sum_into(
        "deal_funnel",
        ("day",),
        counts,
        [
            sa.Column("day", sa.Date(), nullable=False),
            *(sa.Column(n, sa.Integer(), nullable=False) for n in counts),
        ],
    )
    op.drop_table("pipeline_change")
    deals = sa.table(
        "deal_state",
        sa.column("deal_id"),
        sa.column("stage"),
        sa.column("currency"),
        sa.column("value"),
        sa.column("counted"),
    )
    for deal_id, stage, currency, value in bind.execute(
        sa.select(deals.c.deal_id, deals.c.stage, deals.c.currency, deals.c.value)
    ).all():
        # The old pipeline key: [currency, stage, value in ten-thousandths as text].
        old = (
            json.dumps(
                [currency, stage, str(Decimal(value).scaleb(-4).quantize(Decimal("0.0001")))]
            )
            if stage
            else None
        )
        bind.execute(sa.update(deals).where(deals.c.deal_id == deal_id).values(counted=old))
    with op.batch_alter_table("deal_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deal_state_source_call_id"))
        batch_op.drop_index(batch_op.f("ix_deal_state_customer_id"))
        batch_op.drop_column("history")
        batch_op.drop_column("segment")
        batch_op.drop_column("source_call_id")
    op.drop_table("opportunity_call")


def _sum_into(name: str, keys: tuple, counts: tuple, columns: list) -> None:
    """Replace table ``name`` by one keyed by ``keys`` alone, its counts summed (read
    models are a row per day and key at most: they fit in memory)."""
    new = sa.table(name, *(sa.column(c.name, c.type) for c in columns))
    rows = (
        op.get_bind()
        .execute(
            sa.select(
                *(new.c[k] for k in keys), *(sa.func.sum(new.c[n]).label(n) for n in counts)
            ).group_by(*(new.c[k] for k in keys))
        )
        .mappings()
        .all()
    )
    op.drop_table(name)
    table = op.create_table(name, *columns, sa.PrimaryKeyConstraint(*keys))
    if rows:
        op.bulk_insert(table, [dict(row) for row in rows])
