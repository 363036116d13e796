"""Sales events folded into the P&L read models, and the
ledger's published day totals kept for the P&L's reconciliation.

P&L entries follow the sales service's definitions: revenue net of line discounts
less cancelled sales (a cancellation takes back the sale's discount too); returns
as refunded; cost of goods less what came back; cost to serve from completed
calls, each call's cost rounded to the cent as the ledger books it
(``shared.types.to_cents``: the events of sales carry amounts in cents already, a
call's cost comes from the calls service with up to four places); allocations by
their customer shares, booked on the first day of the allocation's period. Each
entry counts on its own local day. Deal events are folded in
``sales.projection``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.reporting.pnl import booking
from services.reporting.pnl.tables import LedgerTotals
from services.reporting.store.counters import local_day
from services.reporting.store.locked_rows import row_for_update
from shared.types import to_cents


def _pnl(session, currency, day, customer_id, **amounts) -> None:
    booking.book(session, currency, day, customer_id, amounts)


def sale_recorded(session: Session, event, zone) -> None:
    s = event.payload
    _pnl(
        session,
        s["currency"],
        local_day(s["recorded_at"], zone),
        s["customer_id"],
        revenue=s["revenue"],
        discounts=s.get("discount") or 0,
        cost_of_goods=s["cost"],
        sales=1,
    )


def sale_returned(session: Session, event, zone) -> None:
    s = event.payload
    _pnl(
        session,
        s["currency"],
        local_day(s["returned_at"], zone),
        s["customer_id"],
        returns=s["revenue"],
        cost_of_goods=-s["cost"],
    )


def sale_cancelled(session: Session, event, zone) -> None:
    s = event.payload
    _pnl(
        session,
        s["currency"],
        local_day(s["cancelled_at"], zone),
        s["customer_id"],
        revenue=-s["revenue"],
        discounts=-(s.get("discount") or 0),
        cost_of_goods=-s["cost"],
        sales=-1,
    )


def call_cost(session: Session, event, zone) -> None:
    call = event.payload
    if call.get("cost") is not None:
        _pnl(
            session,
            call.get("currency") or "HKD",
            local_day(call["completed_at"], zone),
            call["customer_id"],
            cost_to_serve=to_cents(call["cost"]),
        )


def allocation_recorded(session: Session, event, _zone) -> None:
    a = event.payload
    for share in a.get("shares") or ():
        _pnl(
            session,
            a["currency"],
            a["period_start"],
            share["customer_id"],
            allocations=share["amount"],
        )


LEDGER_FIGURES = (
    "revenue",
    "discounts",
    "returns",
    "cost_of_goods",
    "cost_to_serve",
    "allocations",
    "net_contribution",
    "calls",
    "timezone",
    "revision",
)


def ledger_totals(session: Session, event, _zone) -> None:
    """Keep the newest revision of the ledger's totals of a day, whatever the order."""
    t = event.payload
    figures = {name: t[name] for name in LEDGER_FIGURES}
    row = row_for_update(
        session, LedgerTotals, {"currency": t["currency"], "day": t["day"]}, **figures
    )
    if t["revision"] > row.revision:
        for name, value in figures.items():
            setattr(row, name, value)


PROJECTIONS = {
    ("sale.recorded", 1): sale_recorded,
    ("sale.returned", 1): sale_returned,
    ("sale.cancelled", 1): sale_cancelled,
    ("call.completed", 1): call_cost,
    ("allocation.recorded", 1): allocation_recorded,
    ("ledger.totals_published", 1): ledger_totals,
}
