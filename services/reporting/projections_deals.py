"""Deal events folded into the sales report's read models (``models_deals``).

A deal's history (its creation and every stage change seen) is kept on its
``deal_state`` row. Each event adds to it; the deal's figures are then recomputed
from the whole history and only their difference from what it counted before is
added to the tables. So the order events arrive in does not matter, and a deal's
figures move when its currency or segment changes.

A deal counts under the segment its events carry (the sales service stamps the
customer's segment when the deal opens); if none does, under the customer's segment
as reporting knows it (``customer_segment``, as the P&L: ``unknown`` until known),
moved when that changes. It counts under the currency of its newest event. Its
pipeline stage and value on a day are those of its newest change up to that day.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.reporting.increments import add_to, local_day
from services.reporting.models_deals import (COUNTS, KEYS, DealFunnel, DealState,
                                             PipelineChange, StageMove)
from services.reporting.models_rollups import CustomerSegment
from services.reporting.rows import row_for_update
from shared.events.contracts import DEAL_STAGES

CLOSED = ("won", "lost")
UNKNOWN = "unknown"
TABLES = {model.__tablename__: model for model in COUNTS}
CENT = Decimal("0.0001")


class Point(NamedTuple):
    """One event of a deal's history, as stored in ``deal_state.history``."""
    at: str  # UTC ISO time
    kind: str  # "created" or "changed"
    from_stage: str | None
    stage: str
    value: str | None  # expected value from then on; None: unchanged
    seconds: int | None
    currency: str
    from_call: int | None
    segment: str | None

    def order(self):
        return (_time(self.at), self.kind != "created", DEAL_STAGES.index(self.stage),
                self.from_stage or "")


def deal_created(session: Session, event, zone) -> None:
    d = event.payload
    _fold(session, d, zone, Point(_iso(d["created_at"]), "created", None, d["stage"],
                                  _money(d.get("expected_value") or 0), None, d["currency"],
                                  int(bool(d.get("source_call_id"))), d.get("segment")))


def deal_stage_changed(session: Session, event, zone) -> None:
    d = event.payload
    _fold(session, d, zone, Point(_iso(d["changed_at"]), "changed", d["from_stage"],
                                  d["to_stage"], _money(d.get("expected_value")),
                                  d.get("seconds_in_previous_stage"), d["currency"], None,
                                  d.get("segment")))


def customer_segment_set(session: Session, event, zone) -> None:
    """customer.registered/updated (after ``customer_segment`` has followed it): the
    deals of the customer whose events carry no segment move with it."""
    deals = session.scalars(select(DealState).where(
        DealState.customer_id == event.payload["customer_id"], DealState.segment.is_(None))
        .with_for_update()).all()
    for deal in deals:
        _recount(session, deal, zone)


def _fold(session: Session, d: dict, zone, point: Point) -> None:
    if not d.get("segment"):
        # Locked before the deal, as a segment change locks it before the deals it moves.
        _customer_segment(session, d["customer_id"])
    deal = row_for_update(session, DealState, {"deal_id": d["deal_id"]},
                          customer_id=d["customer_id"], currency=d["currency"], value=0)
    history = [Point(*p) for p in json.loads(deal.history or "[]")] + [point]
    deal.history = json.dumps(sorted(history, key=Point.order))
    _recount(session, deal, zone)


def _recount(session: Session, deal: DealState, zone) -> None:
    history = [Point(*p) for p in json.loads(deal.history)]
    created = next((p for p in history if p.kind == "created"), None)
    deal.segment = (created.segment if created and created.segment else None) or next(
        (p.segment for p in reversed(history) if p.segment), None)
    segment = deal.segment or _customer_segment(session, deal.customer_id)
    figures = _figures(history, created, (history[-1].currency, segment), zone, deal)
    old = _parse(deal.counted)
    for model, key in sorted(old.keys() | figures.keys(), key=repr):
        now, before = figures.get((model, key), {}), old.get((model, key), {})
        change = {n: now.get(n, 0) - before.get(n, 0) for n in COUNTS[model]}
        if any(change.values()):
            add_to(session, model, dict(zip(KEYS[model], key)), change)
    deal.counted = json.dumps([[model.__tablename__, [str(k) for k in key],
                                [str(amounts[n]) for n in COUNTS[model]]]
                               for (model, key), amounts in figures.items()])


def _figures(history: list[Point], created: Point | None, where: tuple, zone,
             deal: DealState) -> dict:
    """What the deal adds to each table row ({(model, key): {count: amount}}); also
    sets the deal's newest stage, value, creation and close on ``deal``."""
    out: dict = {}

    def add(model, at: datetime, rest: tuple, **amounts):
        row = out.setdefault((model, (local_day(at, zone), *where, *rest)),
                             dict.fromkeys(COUNTS[model], 0))
        for name, amount in amounts.items():
            row[name] += amount

    current = None
    for p in history:
        at = _time(p.at)
        if p.kind == "created" and current is not None:
            continue  # a change dated before the creation already put it in a stage
        value = Decimal(p.value) if p.value is not None else (current[1] if current else 0)
        if current is not None:
            add(PipelineChange, at, (current[0],), deals=-1, value=-current[1])
        add(PipelineChange, at, (p.stage,), deals=1, value=value)
        if p.kind == "changed":
            add(StageMove, at, (p.from_stage, p.stage), moves=1,
                timed=int(p.seconds is not None), seconds=p.seconds or 0)
        current = (p.stage, value, at)
    close = next((p for p in history if p.kind == "changed" and p.stage in CLOSED), None)
    if created:
        add(DealFunnel, _time(created.at), (), created=1, from_calls=created.from_call)
    if close:
        add(DealFunnel, _time(close.at), (), **{close.stage: 1})
    if close and created:
        add(DealFunnel, _time(close.at), (), **{f"{close.stage}_from_calls": created.from_call})
        if close.stage == "won":
            add(DealFunnel, _time(close.at), (), cycles=1,
                cycle_seconds=int((_time(close.at) - _time(created.at)).total_seconds()))
    deal.stage, deal.value, deal.stage_at = current
    deal.currency = where[0]
    deal.created_at, deal.from_call = (_time(created.at), created.from_call) if created \
        else (None, None)
    deal.closed_at, deal.closed_as = (_time(close.at), close.stage) if close else (None, None)
    return {key: amounts for key, amounts in out.items() if any(amounts.values())}


def _parse(counted: str | None) -> dict:
    out = {}
    for name, key, amounts in json.loads(counted or "[]"):
        model = TABLES[name]
        out[(model, (date.fromisoformat(key[0]), *key[1:]))] = {
            n: Decimal(a) if n == "value" else int(a) for n, a in zip(COUNTS[model], amounts)}
    return out


def _customer_segment(session: Session, customer_id: str) -> str:
    return row_for_update(session, CustomerSegment, {"customer_id": customer_id},
                          segment=UNKNOWN).segment


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _money(value) -> str | None:
    """One spelling per amount, rounded as the tables store it."""
    return None if value is None else str(Decimal(value).quantize(CENT, ROUND_HALF_UP))


PROJECTIONS = {
    ("deal.created", 1): deal_created,
    ("deal.stage_changed", 1): deal_stage_changed,
    ("customer.registered", 1): customer_segment_set,
    ("customer.updated", 1): customer_segment_set,
}
