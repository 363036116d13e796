"""Irregularities surfaced, not hidden, each kind a query over the ledger or deals:

- ``below_cost``: a sale with a line sold below its cost and no approval reason;
- ``late_return``: a return more than ``SALES_RETURN_WINDOW_DAYS`` after its sale
  (accepted, since the goods are back, but listed);
- ``unknown_customer``: a sale for a customer whose registration never arrived;
- ``stuck_deal``: an open deal longer than ``SALES_STUCK_DEAL_DAYS`` in its stage.

Each list is newest first and cursor-paginated.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, select, tuple_

from services.sales.customers.tables import Customer, CustomerAlias
from services.sales.deals.pipeline import OPEN
from services.sales.deals.tables import Deal
from services.sales.ledger.tables import Sale, SaleReturn
from shared.clock import utcnow
from shared.web.pagination import decode_time_cursor, page

KINDS = ("below_cost", "late_return", "unknown_customer", "stuck_deal")


def _below_cost(_settings):
    return (
        Sale,
        Sale.recorded_at,
        and_(Sale.below_cost.is_(True), Sale.approval_reason.is_(None)),
        lambda s: {
            "sale_id": s.id,
            "customer_id": s.customer_id,
            "detail": f"sold for {s.revenue} {s.currency} against a cost of {s.cost}",
        },
    )


def _late_return(window_days):
    seconds = window_days * 86400
    return (
        SaleReturn,
        SaleReturn.returned_at,
        SaleReturn.seconds_after_sale > seconds,
        lambda r: {
            "sale_id": r.sale_id,
            "return_id": r.id,
            "customer_id": r.customer_id,
            "detail": f"returned {r.seconds_after_sale // 86400} days after the sale; "
            f"the window is {window_days} days",
        },
    )


def _unknown_customer(_settings):
    known = select(Customer.customer_id).where(Customer.customer_id == Sale.customer_id)
    merged = select(CustomerAlias.merged_id).where(CustomerAlias.merged_id == Sale.customer_id)
    return (
        Sale,
        Sale.recorded_at,
        and_(~known.exists(), ~merged.exists()),
        lambda s: {
            "sale_id": s.id,
            "customer_id": s.customer_id,
            "detail": "no customer.registered has arrived for this customer",
        },
    )


def _stuck_deal(stuck_days):
    since = utcnow() - timedelta(days=stuck_days)
    return (
        Deal,
        Deal.stage_entered_at,
        and_(Deal.stage.in_(OPEN), Deal.stage_entered_at < since),
        lambda d: {
            "deal_id": d.id,
            "customer_id": d.customer_id,
            "detail": f"in {d.stage} since {d.stage_entered_at.isoformat()}, "
            f"more than {stuck_days} days",
        },
    )


RULES = {
    "below_cost": _below_cost,
    "late_return": _late_return,
    "unknown_customer": _unknown_customer,
    "stuck_deal": _stuck_deal,
}


def list_irregularities(
    uow, kind: str, threshold_days: int, limit: int, cursor: str | None
) -> dict:
    model, at, condition, describe = RULES[kind](threshold_days)
    query = select(model).where(condition).order_by(at.desc(), model.id.desc()).limit(limit + 1)
    before = decode_time_cursor(cursor)
    if before:
        query = query.where(tuple_(at, model.id) < before)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    result = page(rows, limit, lambda row: (getattr(row, at.key).isoformat(), row.id))
    result["items"] = [
        {"kind": kind, "at": getattr(row, at.key), **describe(row)} for row in result["items"]
    ]
    return result
