"""Deal events folded into the sales report's read models (``sales.tables``).

A deal's history (its creation and every stage change seen) is kept on its
``deal_state`` row. Each event adds to it; the deal's figures are then recomputed
from the whole history (``deal_figures``) and only their difference from what it
counted before is added to the tables. So the order events arrive in does not
matter, and a deal's figures move when its currency or segment changes.

A deal counts under the segment its events carry (the sales service stamps the
customer's segment when the deal opens); if none does, under the customer's segment
as reporting knows it (``customer_segment``, as the P&L: ``unknown`` until known),
moved when that changes. It counts under the currency of its newest event. A deal
from a sale-opportunity call also counts with that call (its day and segment), so
the deals from a period's opportunities are a part of them whatever the period; and
under the call's agent in ``agent_cube`` (the call's whole key there: ``deals``,
``deals_won``), so an agent's opportunities → deals is a ratio of one row's counts.
Rows are locked in one order: customer segment, call, deal.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from services.reporting.agents.tables import AgentCube
from services.reporting.calls.projection import agent_of, dims
from services.reporting.pnl.tables import CustomerSegment
from services.reporting.sales import deal_figures
from services.reporting.sales.deal_figures import Point
from services.reporting.sales.tables import COUNTS, KEYS, DealFunnel, DealState, OpportunityCall
from services.reporting.store.counters import add_to, local_day
from services.reporting.store.locked_rows import row_for_update

UNKNOWN = "unknown"
CENT = Decimal("0.0001")


def deal_created(session: Session, event, zone) -> None:
    d = event.payload
    _fold(
        session,
        d,
        zone,
        Point(
            _iso(d["created_at"]),
            "created",
            None,
            d["stage"],
            _money(d.get("expected_value") or 0),
            None,
            d["currency"],
            d.get("source_call_id"),
            d.get("segment"),
        ),
    )


def deal_stage_changed(session: Session, event, zone) -> None:
    d = event.payload
    _fold(
        session,
        d,
        zone,
        Point(
            _iso(d["changed_at"]),
            "changed",
            d["from_stage"],
            d["to_stage"],
            _money(d.get("expected_value")),
            d.get("seconds_in_previous_stage"),
            d["currency"],
            None,
            d.get("segment"),
        ),
    )


def customer_segment_set(session: Session, event, zone) -> None:
    """customer.registered/updated (after ``customer_segment`` has followed it): the
    deals of the customer whose events carry no segment move with it."""
    customer_id = event.payload["customer_id"]
    _recount_all(session, zone, ("customer", customer_id), _BY_CUSTOMER, customer_id)


def opportunity(session: Session, event, zone) -> None:
    """call.completed with a sale opportunity: a deal from it counts with it."""
    call = event.payload
    if call["outcome"] != "sale_opportunity":
        return
    row = row_for_update(session, OpportunityCall, {"call_id": call["call_id"]})
    key = {**dims(call), **agent_of(call)}  # as calls.outcomes counts the call
    row.day, row.segment = local_day(call["completed_at"], zone), key["segment"]
    for name in OpportunityCall.AGENT_KEY:
        setattr(row, name, key[name])
    _recount_all(session, zone, ("call", call["call_id"]), _BY_CALL, call["call_id"])


# Core statements, built once: the ORM's per-query cost dominated customer events.
_BY_CUSTOMER = select(DealState.deal_id).where(
    DealState.customer_id == bindparam("key"), DealState.segment.is_(None)
)
_BY_CALL = select(DealState.deal_id).where(DealState.source_call_id == bindparam("key"))


def _recount_all(session: Session, zone, held: tuple, query, key: str) -> None:
    """Recount the deals ``query`` finds in the database and those of ``held`` this
    transaction folded (not written yet: flushing the whole window's changes before
    each query would cost more than the queries). Recounting one more is harmless."""
    ids = set(session.connection().execute(query, {"key": key}).scalars())
    for deal_id in sorted(ids | _held(session).get(held, set())):
        _recount(session, row_for_update(session, DealState, {"deal_id": deal_id}), zone)


def _held(session: Session) -> dict:
    """The deals this session folded, by ("customer", id) and ("call", id)."""
    return session.info.setdefault("deals_folded", {})


def _fold(session: Session, d: dict, zone, point: Point) -> None:
    if not d.get("segment"):
        _customer_segment(session, d["customer_id"])
    if point.call:
        row_for_update(session, OpportunityCall, {"call_id": point.call})
    deal = row_for_update(
        session,
        DealState,
        {"deal_id": d["deal_id"]},
        customer_id=d["customer_id"],
        currency=d["currency"],
        value=0,
    )
    _held(session).setdefault(("customer", d["customer_id"]), set()).add(d["deal_id"])
    if point.call:
        _held(session).setdefault(("call", point.call), set()).add(d["deal_id"])
    history = deal_figures.load(deal.history) + [point]
    deal.history = json.dumps(sorted(history, key=Point.order))
    _recount(session, deal, zone)


def _recount(session: Session, deal: DealState, zone) -> None:
    history = deal_figures.load(deal.history)
    deal.segment = deal_figures.carried_segment(history)
    segment = deal.segment or _customer_segment(session, deal.customer_id)
    currency = history[-1].currency
    figures, known = deal_figures.figures(history, (currency, segment), zone)
    # Held already when a deal event is folded; otherwise a read is enough: a call
    # folded meanwhile waits for this deal's lock and recounts it after.
    call = known.created and known.created.call and session.get(OpportunityCall, known.created.call)
    if call and call.day is not None:
        key = (DealFunnel, (call.day, currency, call.segment))
        figures[key] = {
            **dict.fromkeys(COUNTS[DealFunnel], 0),
            **figures.get(key, {}),
            "from_opportunities": 1,
        }
        if call.agent_id is not None:  # None: folded before the agent was kept
            agent = (call.day, call.segment, *(getattr(call, n) for n in call.AGENT_KEY))
            won = int(known.close is not None and known.close.stage == "won")
            figures[(AgentCube, agent)] = {"deals": 1, "deals_won": won}
    old = deal_figures.parse(deal.counted)
    for model, key in sorted(old.keys() | figures.keys(), key=repr):
        now, before = figures.get((model, key), {}), old.get((model, key), {})
        change = {n: now.get(n, 0) - before.get(n, 0) for n in COUNTS[model]}
        if any(change.values()):
            add_to(session, model, dict(zip(KEYS[model], key)), change)
    deal.counted = deal_figures.dump(figures)
    deal.stage, deal.value, deal.stage_at = known.stage, known.value, known.stage_at
    deal.currency = currency
    created, close = known.created, known.close
    deal.created_at = _time(created.at) if created else None
    deal.from_call = int(created.call is not None) if created else None
    deal.source_call_id = created.call if created else None
    deal.closed_at, deal.closed_as = (_time(close.at), close.stage) if close else (None, None)


def _customer_segment(session: Session, customer_id: str) -> str:
    return row_for_update(
        session, CustomerSegment, {"customer_id": customer_id}, segment=UNKNOWN
    ).segment


def _iso(moment) -> str:
    return moment.astimezone(UTC).isoformat()


def _time(text: str):
    return datetime.fromisoformat(text)


def _money(value) -> str | None:
    """One spelling per amount, rounded half-up as the tables store it."""
    return None if value is None else str(Decimal(value).quantize(CENT, ROUND_HALF_UP))


PROJECTIONS = {
    ("deal.created", 1): deal_created,
    ("deal.stage_changed", 1): deal_stage_changed,
    ("customer.registered", 1): customer_segment_set,
    ("customer.updated", 1): customer_segment_set,
    ("call.completed", 1): opportunity,
}
