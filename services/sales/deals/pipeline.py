"""Deals through the sales cycle: lead → qualified → proposal → negotiation → won,
or lost from any open stage. Only those transitions are legal; won and lost are
final. Each stage entered is appended to the deal's history, from which the time
spent in each stage is told. A deal opened from a call names the call, and a call
opens at most one deal.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from services.sales.customers.tables import Customer
from services.sales.deals.tables import Deal, DealStage
from services.sales.pnl import booking
from shared.clock import utcnow
from shared.errors import Conflict, Invalid, NotFound
from shared.messaging.unit_of_work import UnitOfWork
from shared.types import to_cents
from shared.web import idempotency
from shared.web.pagination import decode_time_cursor, page

TRANSITIONS = {
    "lead": ("qualified", "lost"),
    "qualified": ("proposal", "lost"),
    "proposal": ("negotiation", "lost"),
    "negotiation": ("won", "lost"),
    "won": (),
    "lost": (),
}
PROBABILITY = {
    "lead": 10,
    "qualified": 25,
    "proposal": 50,
    "negotiation": 75,
    "won": 100,
    "lost": 0,
}
OPEN = ("lead", "qualified", "proposal", "negotiation")


def expected_value(deal: Deal) -> Decimal | None:
    """The deal's amount weighted by its stage's probability, rounded once to cents."""
    if deal.amount is None:
        return None
    return to_cents(deal.amount * deal.probability / 100)


def open_deal(
    work: UnitOfWork,
    *,
    customer_id: str,
    by: str,
    now: datetime,
    source_call_id: str | None = None,
    owner: str | None = None,
    amount: Decimal | None = None,
    currency: str = "HKD",
    title: str | None = None,
    segment: str | None = None,
) -> Deal:
    customer_id = booking.survivor(work.session, customer_id)  # merged: the survivor's deal
    customer = work.session.get(Customer, customer_id)
    deal = Deal(
        customer_id=customer_id,
        title=title,
        stage="lead",
        stage_entered_at=now,
        probability=PROBABILITY["lead"],
        amount=amount,
        currency=currency,
        owner=owner,
        source_call_id=source_call_id,
        segment=segment or (customer.segment if customer else None),
        created_at=now,
        created_by=by,
    )
    deal.history = [
        DealStage(seq=1, stage="lead", entered_at=now, probability=deal.probability, changed_by=by)
    ]
    work.session.add(deal)
    work.session.flush()
    work.emit(
        "deal.created",
        {
            "deal_id": deal.id,
            "customer_id": customer_id,
            "stage": "lead",
            "probability": deal.probability,
            "expected_value": expected_value(deal),
            "currency": currency,
            "owner": owner,
            "source_call_id": source_call_id,
            "segment": deal.segment,
            "created_at": now,
        },
    )
    return deal


def create_deal(uow, data: dict, by: str) -> Deal:
    with uow() as work:
        if data["source_call_id"] and deal_of_call(work, data["source_call_id"]):
            raise Conflict(f"call {data['source_call_id']} already opened a deal")
        deal = open_deal(work, by=by, now=utcnow(), **data)
        idempotency.concerns(deal.customer_id)  # its title is free text about them
        return deal


def deal_of_call(work: UnitOfWork, call_id: str) -> Deal | None:
    return work.session.scalar(select(Deal).where(Deal.source_call_id == call_id))


def change_stage(uow, deal_id: str, data: dict, by: str) -> Deal:
    """Move a deal to ``to_stage`` if that is a legal step from where it is (409 if not)."""
    now = utcnow()
    to_stage = data["to_stage"]
    with uow() as work:
        deal = _load(work.session, deal_id, lock=True)
        if to_stage not in TRANSITIONS[deal.stage]:
            legal = ", ".join(TRANSITIONS[deal.stage]) or "none: the deal is closed"
            raise Conflict(
                f"a deal cannot go from {deal.stage} to {to_stage}",
                from_stage=deal.stage,
                allowed=list(TRANSITIONS[deal.stage]),
                errors={"to_stage": [f"From {deal.stage} the next stage is one of: {legal}."]},
            )
        if to_stage == "lost" and not data["lost_reason"]:
            raise Invalid(
                "a lost deal needs its reason",
                errors={"lost_reason": ["Required when the deal is lost."]},
            )
        seconds = int((now - deal.stage_entered_at).total_seconds())
        previous = deal.stage
        deal.stage, deal.stage_entered_at = to_stage, now
        deal.probability = PROBABILITY[to_stage]
        deal.lost_reason = data["lost_reason"] if to_stage == "lost" else None
        if data["amount"] is not None:
            deal.amount = data["amount"]
        deal.history.append(
            DealStage(
                seq=len(deal.history) + 1,
                stage=to_stage,
                entered_at=now,
                probability=deal.probability,
                changed_by=by,
                note=data["note"],
            )
        )
        work.emit(
            "deal.stage_changed",
            {
                "deal_id": deal.id,
                "customer_id": deal.customer_id,
                "from_stage": previous,
                "to_stage": to_stage,
                "probability": deal.probability,
                "expected_value": expected_value(deal),
                "currency": deal.currency,
                "lost_reason": deal.lost_reason,
                "seconds_in_previous_stage": seconds,
                "segment": deal.segment,
                "changed_at": now,
            },
        )
    return deal


def _load(session, deal_id: str, lock: bool = False) -> Deal:
    query = select(Deal).where(Deal.id == deal_id).options(selectinload(Deal.history))
    deal = session.scalar(query.with_for_update(of=Deal) if lock else query)
    if deal is None:
        raise NotFound(f"no deal {deal_id}")
    return deal


def get_deal(uow, deal_id: str) -> Deal:
    with uow.reader() as session:
        return _load(session, deal_id)


def list_deals(uow, args: dict) -> dict:
    """Deals, newest first, by stage and customer if asked."""
    query = (
        select(Deal)
        .options(selectinload(Deal.history))
        .order_by(Deal.created_at.desc(), Deal.id.desc())
        .limit(args["limit"] + 1)
    )
    for name in ("stage", "customer_id"):
        if args[name]:
            query = query.where(getattr(Deal, name) == args[name])
    before = decode_time_cursor(args["cursor"])
    if before:
        query = query.where(tuple_(Deal.created_at, Deal.id) < before)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, args["limit"], lambda d: (d.created_at.isoformat(), d.id))


def stage_times(deal: Deal, now: datetime) -> list[dict]:
    """Each stage entered, when it was left and the seconds spent in it (to now for
    the current stage of an open deal; none for the final stage of a closed one)."""
    rows = []
    for index, stage in enumerate(deal.history):
        following = deal.history[index + 1] if index + 1 < len(deal.history) else None
        left = following.entered_at if following else None
        end = left or (now if stage.stage in OPEN else None)
        rows.append(
            {
                "stage": stage.stage,
                "entered_at": stage.entered_at,
                "left_at": left,
                "probability": stage.probability,
                "changed_by": stage.changed_by,
                "note": stage.note,
                "seconds": int((end - stage.entered_at).total_seconds()) if end else None,
            }
        )
    return rows
