"""Profit and loss from the maintained summary, grouped by one dimension.

Definitions (all in one currency; every entry was rounded to the cent once, when it
was recorded, so these are exact sums and nothing is rounded here):

- revenue: sales at list price (quantity × unit price), less cancelled sales;
- discounts: line discounts given, less those of cancelled sales;
- returns: what returns refunded (net of the returned lines' discounts);
- cost_of_goods: cost of goods sold, less that of goods returned or cancelled;
- gross_margin = revenue − discounts − returns − cost_of_goods;
- cost_to_serve: the cost of completed calls (staff time or partner fee);
- allocations: the customers' shares of training, promotion material and marketing
  fund allocations (booked on the first day of the allocation's period);
- net_contribution = gross_margin − cost_to_serve − allocations.

An entry counts on its local day (``SALES_TIMEZONE``): a sale on its sale time,
a return or cancellation on its own time (a reversing entry does not rewrite the
past), a call on its completion. Mixing currencies is refused: there is no rate.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, type_coerce

from services.sales.pnl.tables import AMOUNTS, PnlDaily
from shared.errors import Invalid
from shared.types import Money

GROUPS = {
    "customer": "customer_id",
    "segment": "segment",
    "product": "product",
    "channel": "channel",
    "team": "team",
    "agent_kind": "agent_kind",
    "day": "day",
}
FIGURES = (*AMOUNTS, "gross_margin", "net_contribution")


def query(group_by: str, currency: str, start: date | None, end: date | None):
    """The one GROUP BY the report runs (also timed by ``bench/pnl.py``)."""
    key = getattr(PnlDaily, GROUPS[group_by])
    sums = [type_coerce(func.sum(getattr(PnlDaily, name)), Money()).label(name) for name in AMOUNTS]
    stmt = (
        select(key.label("key"), *sums, func.sum(PnlDaily.calls).label("calls"))
        .where(PnlDaily.currency == currency)
        .group_by(key)
        .order_by(key)
    )
    return _period(stmt, start, end)


def _period(stmt, start, end):
    if start:
        stmt = stmt.where(PnlDaily.day >= start)
    if end:
        stmt = stmt.where(PnlDaily.day <= end)
    return stmt


def report(uow, group_by: str, currency: str | None, start: date | None, end: date | None) -> dict:
    if start and end and start > end:
        raise Invalid(
            "the period ends before it starts", errors={"from": [f"{start} is after 'to' ({end})."]}
        )
    with uow.reader() as session:
        currency = currency or _only_currency(session, start, end)
        rows = session.execute(query(group_by, currency, start, end)).mappings().all()
    groups = [{"key": _key(row["key"]), **figures(row), "calls": int(row["calls"])} for row in rows]
    totals = {name: sum((g[name] for g in groups), Decimal(0)) for name in AMOUNTS}
    return {
        "currency": currency,
        "group_by": group_by,
        "from": start,
        "to": end,
        "groups": groups,
        "totals": {**figures(totals), "calls": sum(g["calls"] for g in groups)},
    }


def _only_currency(session, start, end) -> str:
    found = list(session.scalars(_period(select(PnlDaily.currency).distinct(), start, end)))
    if len(found) > 1:
        raise Invalid(
            "the period mixes currencies and there is no exchange rate to add "
            "them up; ask for one currency",
            errors={"currency": [f"One of: {', '.join(sorted(found))}."]},
        )
    return found[0] if found else "HKD"


def figures(sums) -> dict:
    out = {name: Decimal(sums[name] or 0) for name in AMOUNTS}
    out["gross_margin"] = out["revenue"] - out["discounts"] - out["returns"] - out["cost_of_goods"]
    out["net_contribution"] = out["gross_margin"] - out["cost_to_serve"] - out["allocations"]
    return out


def _key(value):
    if isinstance(value, date):
        return value.isoformat()
    return value or None
