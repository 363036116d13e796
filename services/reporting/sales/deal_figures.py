"""What one deal adds to the deal tables, computed from its whole known history:
its stage on each day (``pipeline_change``), its dated stage changes
(``stage_move``), its creation, close and cycle (``deal_funnel``).

Pure functions of the history, so a projection can recompute a deal's figures at
each of its events, whatever their order, and write only the difference.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from services.reporting.sales.tables import COUNTS, DealFunnel, PipelineChange, StageMove
from services.reporting.store.counters import local_day
from shared.events.contracts import DEAL_STAGES

CLOSED = ("won", "lost")
TABLES = {model.__tablename__: model for model in COUNTS}


class Point(NamedTuple):
    """One event of a deal's history, as stored in ``deal_state.history``."""

    at: str  # UTC ISO time
    kind: str  # "created" or "changed"
    from_stage: str | None
    stage: str
    value: str | None  # expected value from then on; None: unchanged
    seconds: int | None
    currency: str
    call: str | None  # the call a created deal came from
    segment: str | None

    def order(self):
        return (
            datetime.fromisoformat(self.at),
            self.kind != "created",
            DEAL_STAGES.index(self.stage),
            self.from_stage or "",
        )


class Known(NamedTuple):
    """What the history says of the deal now."""

    stage: str
    value: Decimal
    stage_at: datetime
    created: Point | None
    close: Point | None


def load(history: str | None) -> list[Point]:
    return [Point(*p) for p in json.loads(history or "[]")]


def carried_segment(history: list[Point]) -> str | None:
    """The creation's segment, else the newest change's that carries one."""
    created = next((p for p in history if p.kind == "created" and p.segment), None)
    return (
        created.segment
        if created
        else next((p.segment for p in reversed(history) if p.segment), None)
    )


def figures(history: list[Point], where: tuple, zone) -> tuple[dict, Known]:
    """({(model, key): {count: amount}}, what is known) for a deal counted under
    ``where`` = (currency, segment); rows of zeros left out."""
    out: dict = {}

    def add(model, at: datetime, rest: tuple, **amounts):
        row = out.setdefault(
            (model, (local_day(at, zone), *where, *rest)), dict.fromkeys(COUNTS[model], 0)
        )
        for name, amount in amounts.items():
            row[name] += amount

    current = None
    for p in history:
        at = datetime.fromisoformat(p.at)
        if p.kind == "created" and current is not None:
            continue  # a change dated before the creation already put it in a stage
        value = Decimal(p.value) if p.value is not None else (current[1] if current else 0)
        if current is not None:
            add(PipelineChange, at, (current[0],), deals=-1, value=-current[1])
        add(PipelineChange, at, (p.stage,), deals=1, value=value)
        if p.kind == "changed":
            add(
                StageMove,
                at,
                (p.from_stage, p.stage),
                moves=1,
                timed=int(p.seconds is not None),
                seconds=p.seconds or 0,
            )
        current = (p.stage, value, at)
    created = next((p for p in history if p.kind == "created"), None)
    close = next((p for p in history if p.kind == "changed" and p.stage in CLOSED), None)
    if created:
        add(
            DealFunnel,
            datetime.fromisoformat(created.at),
            (),
            created=1,
            from_calls=int(created.call is not None),
        )
    if close:
        closed_at = datetime.fromisoformat(close.at)
        add(DealFunnel, closed_at, (), **{close.stage: 1})
        if created:
            add(
                DealFunnel,
                closed_at,
                (),
                **{f"{close.stage}_from_calls": int(created.call is not None)},
            )
        if created and close.stage == "won":
            add(
                DealFunnel,
                closed_at,
                (),
                cycles=1,
                cycle_seconds=int((closed_at - datetime.fromisoformat(created.at)).total_seconds()),
            )
    return (
        {key: amounts for key, amounts in out.items() if any(amounts.values())},
        Known(*current, created, close),
    )


def dump(counted: dict) -> str:
    return json.dumps(
        [
            [model.__tablename__, [str(k) for k in key], [str(amounts[n]) for n in COUNTS[model]]]
            for (model, key), amounts in counted.items()
        ]
    )


def parse(counted: str | None) -> dict:
    out = {}
    for name, key, amounts in json.loads(counted or "[]"):
        model = TABLES[name]
        out[(model, (date.fromisoformat(key[0]), *key[1:]))] = {
            n: Decimal(a) if n == "value" else int(a) for n, a in zip(COUNTS[model], amounts)
        }
    return out
