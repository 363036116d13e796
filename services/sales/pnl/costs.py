"""Cost to serve: each completed call's cost, booked once into the ledger for its
customer, and the allocation ledger (training, promotion material, marketing
fund) apportioned to customers.

Apportioning rule (``rule``, default ``SALES_ALLOCATION_RULE``): the customers are
those the allocation's target (team, channel and/or segment) served in its period,
weighted either by ``calls`` (calls completed in the period that match the target)
or by ``revenue`` (sales revenue net of discounts and returns, in the allocation's
currency, in the period, matching the target; a customer with none or less gets
nothing). The amount is split by largest remainder on the exact weights, so every
cent lands on exactly one customer and the shares sum to the amount.
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, event, func, select, tuple_, type_coerce
from sqlalchemy.orm import Session

from services.sales.customers.tables import Customer
from services.sales.ledger import apportion
from services.sales.pnl import booking
from services.sales.pnl.tables import Allocation, AllocationShare, CallCost, PnlDaily
from shared import bulk_writes
from shared.clock import utcnow
from shared.db import in_chunks
from shared.errors import Invalid, NotFound
from shared.messaging.unit_of_work import UnitOfWork
from shared.types import Money, to_cents
from shared.web.pagination import decode_time_cursor, page

TARGETS = ("team", "channel", "segment")
BOOKED = "sales.costs.booked"  # session.info: calls booked in this transaction
# session.info: (calls looked up, those of them on file) for a consumer's window
LOOKED_UP = "sales.costs.looked_up"
_BOOKED_BEFORE = select(CallCost.call_id).where(CallCost.call_id == bindparam("call_id"))
PENDING = "sales.costs.pending"  # session.info: call cost rows to write at the commit
COST_KEYS = (
    "call_id",
    "customer_id",
    "completed_at",
    "cost",
    "currency",
    "outcome",
    "channel",
    "team",
    "agent_kind",
    "partner_id",
    "segment",
    "booked_at",
)


def look_up_calls(work: UnitOfWork, calls: list[dict]) -> None:
    """Before a consumer's window is applied: which of its calls were booked before
    it, in a query per few hundred calls instead of one each, and the customers of
    those that name no segment (held by the session, so ``_segment`` reads none
    again). Nothing in the window writes a call cost before its commit, so the
    answers hold for the whole window."""
    session = work.session
    ids = sorted({call["call_id"] for call in calls})
    on_file: set[str] = set()
    for part in in_chunks(ids):
        on_file.update(
            session.connection().scalars(select(CallCost.call_id).where(CallCost.call_id.in_(part)))
        )
    session.info[LOOKED_UP] = (set(ids), on_file)
    customers = sorted({c["customer_id"] for c in calls if not c.get("segment")})
    for part in in_chunks(customers):
        session.scalars(select(Customer).where(Customer.customer_id.in_(part))).all()


def book_call_cost(work: UnitOfWork, call: dict, zone: ZoneInfo) -> bool:
    """Book a completed call's cost (rounded once to the cent) for its customer;
    False if this call was booked already.

    A consumer hands a whole delivery window to one transaction, so the row goes
    in with the window's other call costs and the summary increment with the
    others at the commit; the calls booked in this transaction are remembered, as
    nothing else here would see them yet (the same call can come twice in one
    window, under two event ids)."""
    booked = work.session.info.setdefault(BOOKED, set())
    call_id = call["call_id"]
    if call_id in booked or _booked_before(work, call_id):
        return False
    booked.add(call_id)
    segment = call.get("segment") or _segment(work, call["customer_id"])
    cost = to_cents(call["cost"]) if call.get("cost") is not None else Decimal(0)
    _add_cost(
        work.session,
        (
            call_id,
            call["customer_id"],
            call["completed_at"],
            cost,
            call["currency"],
            call["outcome"],
            call["channel"],
            call.get("team"),
            call.get("agent_kind"),
            call.get("partner_id"),
            segment,
            utcnow(),
        ),
    )
    booking.add(
        work.session,
        [
            booking.entry(
                booking.local_day(call["completed_at"], zone),
                call["currency"],
                call["customer_id"],
                channel=call["channel"],
                team=call.get("team"),
                agent_kind=call.get("agent_kind"),
                cost_to_serve=cost,
                calls=1,
            )
        ],
        zone,
    )
    return True


def _add_cost(session: Session, row: tuple) -> None:
    """A call cost row (``COST_KEYS``), written with the transaction's others in one
    statement just before the commit: the driver takes them as they are, without
    the work a Core insert does for every value of every row."""
    rows = session.info.get(PENDING)
    if rows is None:
        rows = session.info[PENDING] = []
        event.listen(session, "before_commit", _write_costs)
    rows.append(row)


def _write_costs(session: Session) -> None:
    rows = session.info.pop(PENDING, None)
    if rows:
        bulk_writes.insert(session.connection(), CallCost.__table__, COST_KEYS, rows)


def _booked_before(work: UnitOfWork, call_id: str) -> bool:
    looked_up = work.session.info.get(LOOKED_UP)
    if looked_up is not None and call_id in looked_up[0]:
        return call_id in looked_up[1]
    found = work.session.connection().execute(_BOOKED_BEFORE, {"call_id": call_id})
    return found.first() is not None


def _segment(work: UnitOfWork, customer_id: str) -> str | None:
    customer = work.session.get(Customer, customer_id)
    return customer.segment if customer else None


def record_allocation(uow, data: dict, by: str, zone: ZoneInfo) -> Allocation:
    if not any(data[name] for name in TARGETS):
        raise Invalid(
            "an allocation goes to a team, a channel or a segment",
            errors={name: ["One of team, channel, segment is required."] for name in TARGETS},
        )
    if data["period_end"] < data["period_start"]:
        raise Invalid(
            "the period ends before it starts", errors={"period_end": ["Before period_start."]}
        )
    now = utcnow()
    with uow() as work:
        weights = _weights(work.session, data)
        if not weights:
            raise Invalid(
                "nobody to apportion the allocation to",
                errors={"rule": [f"No customer of this target has {data['rule']} in the period."]},
            )
        customers = sorted(weights)
        cents = apportion.by_weights(
            int(data["amount"].scaleb(2)), [int(weights[c]) for c in customers]
        )
        allocation = Allocation(
            **data,
            recorded_at=now,
            recorded_by=by,
            shares=[
                AllocationShare(customer_id=c, weight=weights[c], amount=Decimal(share).scaleb(-2))
                for c, share in zip(customers, cents)
                if share
            ],
        )
        work.session.add(allocation)
        work.session.flush()
        _book(work, allocation, zone)
        work.emit(
            "allocation.recorded",
            {
                "allocation_id": allocation.id,
                "kind": allocation.kind,
                "amount": allocation.amount,
                "currency": allocation.currency,
                "team": allocation.team,
                "channel": allocation.channel,
                "segment": allocation.segment,
                "period_start": allocation.period_start,
                "period_end": allocation.period_end,
                "rule": allocation.rule,
                "recorded_at": now,
                "shares": [
                    {"customer_id": s.customer_id, "amount": s.amount} for s in allocation.shares
                ],
            },
        )
    return allocation


def _weights(session, data: dict) -> dict[str, Decimal]:
    """Customer → weight (calls, or net revenue in cents) of the target in the period."""
    if data["rule"] == "calls":
        measure = func.sum(PnlDaily.calls)
    else:
        measure = type_coerce(
            func.sum(PnlDaily.revenue - PnlDaily.discounts - PnlDaily.returns), Money()
        )
    query = (
        select(PnlDaily.customer_id, measure)
        .where(PnlDaily.day.between(data["period_start"], data["period_end"]))
        .group_by(PnlDaily.customer_id)
    )
    if data["rule"] == "revenue":
        query = query.where(PnlDaily.currency == data["currency"])
    for name in TARGETS:
        if data[name]:
            query = query.where(getattr(PnlDaily, name) == data[name])
    weights = {}
    for customer_id, weight in session.execute(query):
        # Revenue weights are whole cents (the summary holds cents).
        value = Decimal(weight) if data["rule"] == "calls" else Decimal(weight).scaleb(2)
        if value > 0:
            weights[customer_id] = value
    return weights


def _book(work: UnitOfWork, allocation: Allocation, zone: ZoneInfo) -> None:
    booking.book(
        work.session,
        [
            booking.entry(
                allocation.period_start,
                allocation.currency,
                share.customer_id,
                channel=allocation.channel,
                team=allocation.team,
                allocations=share.amount,
            )
            for share in allocation.shares
        ],
        zone,
    )


def get_allocation(uow, allocation_id: str) -> Allocation:
    with uow.reader() as session:
        allocation = session.get(Allocation, allocation_id)
        if allocation is None:
            raise NotFound(f"no allocation {allocation_id}")
        return allocation


def list_allocations(uow, limit: int, cursor: str | None) -> dict:
    query = (
        select(Allocation)
        .order_by(Allocation.recorded_at.desc(), Allocation.id.desc())
        .limit(limit + 1)
    )
    before = decode_time_cursor(cursor)
    if before:
        query = query.where(tuple_(Allocation.recorded_at, Allocation.id) < before)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda a: (a.recorded_at.isoformat(), a.id))
