"""Sales events folded into the P&L, pipeline and funnel read models, and the
ledger's published day totals kept for the P&L's reconciliation.

P&L entries follow the sales service's definitions: revenue net of line discounts
less cancelled sales (a cancellation takes back the sale's discount too); returns
as refunded; cost of goods less what came back; cost to serve from completed
calls, each call's cost rounded to the cent as the ledger books it
(``shared.types.to_cents``: the events of sales carry amounts in cents already, a
call's cost comes from the calls service with up to four places); allocations by
their customer shares, booked on the first day of the allocation's period. Each
entry counts on its own local day. A deal's pipeline count follows its newest
stage by event time.
"""
from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy.orm import Session

from services.reporting import pnl_book
from services.reporting.increments import add_to, local_day
from services.reporting.models_facts import DealFunnel, DealState, PipelineStage, StageMove
from services.reporting.models_rollups import LedgerTotals
from services.reporting.rows import row_for_update
from shared.types import to_cents

CLOSED = ("won", "lost")


def _pnl(session, currency, day, customer_id, **amounts) -> None:
    pnl_book.book(session, currency, day, customer_id, amounts)


def sale_recorded(session: Session, event, zone) -> None:
    s = event.payload
    _pnl(session, s["currency"], local_day(s["recorded_at"], zone), s["customer_id"],
         revenue=s["revenue"], discounts=s.get("discount") or 0, cost_of_goods=s["cost"],
         sales=1)


def sale_returned(session: Session, event, zone) -> None:
    s = event.payload
    _pnl(session, s["currency"], local_day(s["returned_at"], zone), s["customer_id"],
         returns=s["revenue"], cost_of_goods=-s["cost"])


def sale_cancelled(session: Session, event, zone) -> None:
    s = event.payload
    _pnl(session, s["currency"], local_day(s["cancelled_at"], zone), s["customer_id"],
         revenue=-s["revenue"], discounts=-(s.get("discount") or 0), cost_of_goods=-s["cost"],
         sales=-1)


def call_cost(session: Session, event, zone) -> None:
    call = event.payload
    if call.get("cost") is not None:
        _pnl(session, call.get("currency") or "HKD", local_day(call["completed_at"], zone),
             call["customer_id"], cost_to_serve=to_cents(call["cost"]))


def allocation_recorded(session: Session, event, _zone) -> None:
    a = event.payload
    for share in a.get("shares") or ():
        _pnl(session, a["currency"], a["period_start"], share["customer_id"],
             allocations=share["amount"])


LEDGER_FIGURES = ("revenue", "discounts", "returns", "cost_of_goods", "cost_to_serve",
                  "allocations", "net_contribution", "calls", "timezone", "revision")


def ledger_totals(session: Session, event, _zone) -> None:
    """Keep the newest revision of the ledger's totals of a day, whatever the order."""
    t = event.payload
    figures = {name: t[name] for name in LEDGER_FIGURES}
    row = row_for_update(session, LedgerTotals, {"currency": t["currency"], "day": t["day"]},
                         **figures)
    if t["revision"] > row.revision:
        for name, value in figures.items():
            setattr(row, name, value)


def _deal(session, deal_id, customer_id) -> DealState:
    return row_for_update(session, DealState, {"deal_id": deal_id}, customer_id=customer_id,
                          currency="HKD", value=0)


def _move_pipeline(session, deal: DealState, change) -> None:
    old = json.loads(deal.counted) if deal.counted else None
    change()
    new = [deal.currency, deal.stage, _text(deal.value)] if deal.stage else None
    if new == old:
        return
    if old:
        add_to(session, PipelineStage, {"currency": old[0], "stage": old[1]},
               {"deals": -1, "value": -_dec(old[2])})
    if new:
        add_to(session, PipelineStage, {"currency": new[0], "stage": new[1]},
               {"deals": 1, "value": deal.value})
    deal.counted = json.dumps(new) if new else None


def _text(value) -> str:
    """One spelling per amount, whether it came from an event or the database."""
    return str(Decimal(value).quantize(Decimal("0.0001")))


def _dec(text):
    return Decimal(text)


def deal_created(session: Session, event, zone) -> None:
    d = event.payload
    deal = _deal(session, d["deal_id"], d["customer_id"])
    deal.created_at, deal.from_call = d["created_at"], int(bool(d.get("source_call_id")))
    add_to(session, DealFunnel, {"day": local_day(d["created_at"], zone)},
           {"created": 1, "from_calls": deal.from_call})

    def change():
        if deal.stage_at is None:  # no later stage change has arrived first
            deal.stage, deal.stage_at = d["stage"], d["created_at"]
            deal.currency, deal.value = d["currency"], d.get("expected_value") or 0
    _move_pipeline(session, deal, change)
    _close(session, deal, zone)


def deal_stage_changed(session: Session, event, zone) -> None:
    d = event.payload
    deal = _deal(session, d["deal_id"], d["customer_id"])
    seconds = d.get("seconds_in_previous_stage")
    add_to(session, StageMove, {"from_stage": d["from_stage"], "to_stage": d["to_stage"]},
           {"moves": 1, "timed": int(seconds is not None), "seconds": seconds or 0})

    def change():
        if deal.stage_at is None or d["changed_at"] >= deal.stage_at:
            deal.stage, deal.stage_at, deal.currency = d["to_stage"], d["changed_at"], d["currency"]
            if d.get("expected_value") is not None:
                deal.value = d["expected_value"]
    _move_pipeline(session, deal, change)
    if d["to_stage"] in CLOSED and deal.closed_at is None:
        deal.closed_at, deal.closed_as = d["changed_at"], d["to_stage"]
        add_to(session, DealFunnel, {"day": local_day(d["changed_at"], zone)},
               {d["to_stage"]: 1})
        _close(session, deal, zone)


def _close(session, deal: DealState, zone) -> None:
    """Count a won deal's call origin and cycle once both its creation and its
    close are known, whichever arrived last."""
    if deal.closed_at is None or deal.created_at is None or deal.closed_as != "won":
        return
    seconds = int((deal.closed_at - deal.created_at).total_seconds())
    add_to(session, DealFunnel, {"day": local_day(deal.closed_at, zone)},
           {"won_from_calls": deal.from_call or 0, "cycles": 1, "cycle_seconds": seconds})


PROJECTIONS = {
    ("sale.recorded", 1): sale_recorded,
    ("sale.returned", 1): sale_returned,
    ("sale.cancelled", 1): sale_cancelled,
    ("call.completed", 1): call_cost,
    ("allocation.recorded", 1): allocation_recorded,
    ("deal.created", 1): deal_created,
    ("deal.stage_changed", 1): deal_stage_changed,
    ("ledger.totals_published", 1): ledger_totals,
}
