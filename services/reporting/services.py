"""Report use cases: each answers from the maintained aggregates in one short read,
never from the raw event history.

Days are local dates in the reporting time zone, bounds inclusive. P&L figures are
exact sums rounded once, at the end, to cents half-up; so a total may differ by a
cent from the sum of the rounded segment figures, and it is the total that
reconciles with the ledger.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from services.reporting.models import PLANNED, ActivityDaily, CustomerDim, SalesDaily
from shared.types import to_cents
from shared.errors import Invalid

ACTIVITY_DAYS = 30  # the default activity period: the last 30 days, today included
UNKNOWN_SEGMENT = "unknown"  # sales of customers reporting has not heard of yet


def _check_period(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise Invalid("the period ends before it starts",
                      errors={"from": [f"{start} is after 'to' ({end})."]})


def _counts() -> dict:
    return {"planned": 0, "completed": 0, "outcomes": {}}


def _count(bucket: dict, outcome: str, count: int) -> None:
    if outcome == PLANNED:
        bucket["planned"] += count
        return
    bucket["completed"] += count
    bucket["outcomes"][outcome] = bucket["outcomes"].get(outcome, 0) + count


def activity_report(uow, zone: ZoneInfo, start: date | None = None,
                    end: date | None = None) -> dict:
    """Calls planned and completed per day (only days with any), and the totals."""
    end = end or datetime.now(zone).date()
    start = start or end - timedelta(days=ACTIVITY_DAYS - 1)
    _check_period(start, end)
    query = (select(ActivityDaily.day, ActivityDaily.outcome, ActivityDaily.count)
             .where(ActivityDaily.day.between(start, end))
             .order_by(ActivityDaily.day, ActivityDaily.outcome))
    with uow.reader() as session:
        rows = session.execute(query).all()
    days: dict[date, dict] = {}
    totals = _counts()
    for day, outcome, count in rows:
        _count(days.setdefault(day, _counts()), outcome, count)
        _count(totals, outcome, count)
    return {"start": start, "end": end, "timezone": zone.key,
            "days": [{"day": day, **counts} for day, counts in days.items()],
            "totals": totals}


def _figures(revenue: Decimal, cost: Decimal, sales: int) -> dict:
    return {"revenue": to_cents(revenue), "cost": to_cents(cost),
            "margin": to_cents(revenue - cost), "sales": sales}


def _sums_by_segment(uow, currency: str, start: date | None, end: date | None) -> dict:
    query = (select(CustomerDim.segment, func.sum(SalesDaily.revenue),
                    func.sum(SalesDaily.cost), func.sum(SalesDaily.sales))
             .select_from(SalesDaily)
             .outerjoin(CustomerDim, CustomerDim.customer_id == SalesDaily.customer_id)
             .where(SalesDaily.currency == currency)
             .group_by(CustomerDim.segment))
    if start:
        query = query.where(SalesDaily.day >= start)
    if end:
        query = query.where(SalesDaily.day <= end)
    with uow.reader() as session:
        rows = session.execute(query).all()
    sums: dict[str, list] = {}
    for segment, revenue, cost, sales in rows:  # a real segment may be called "unknown" too
        acc = sums.setdefault(segment or UNKNOWN_SEGMENT, [Decimal(0), Decimal(0), 0])
        acc[0] += revenue
        acc[1] += cost
        acc[2] += int(sales)
    return sums


def pnl_report(uow, currency: str, start: date | None = None, end: date | None = None) -> dict:
    """Revenue, cost and margin of one currency by customer segment, and the totals."""
    _check_period(start, end)
    sums = _sums_by_segment(uow, currency, start, end)
    totals = [sum((s[i] for s in sums.values()), Decimal(0)) for i in (0, 1)]
    sales = sum(s[2] for s in sums.values())
    return {"currency": currency, "start": start, "end": end,
            "segments": [{"segment": name, **_figures(*sums[name])} for name in sorted(sums)],
            "totals": _figures(totals[0], totals[1], sales)}
