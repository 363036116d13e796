"""The P&L's reconciliation, and the one rule of the ledger's that reporting's P&L
applies when it reads rather than when it books (a merged customer's entries
count under its survivor).

The reconciliation compares reporting's figures of each day of the period, and of
the whole period, with the totals the sales ledger itself published for those days
(``ledger.totals_published``, kept in ``ledger_totals``), and the per-customer
roll-ups with the cube's totals (``combine``).

Both sides are exact sums of entries each rounded to the cent once (the ledger
when it recorded them, reporting when it counted them, by the same rule,
``shared.types.to_cents``), so any difference is real: an event one side never
saw, an entry booked differently, a day counted in another time zone. Every
difference is listed (day, measure, ledger, reporting, reporting − ledger) and
makes the reconciliation unbalanced, as do totals published in a time zone other
than reporting's. The period's total is compared over the days the ledger has
published; a day reporting has figures for but the ledger has published nothing
for (yet: its totals may still be on their way; or a day from before the ledger
published) is listed apart, in ``days_without_ledger_totals``.

Measures are in reporting's terms: ``revenue`` net of discounts (the ledger's
list-price revenue less its discounts), then discounts, returns, cost of goods,
cost to serve, allocations and net contribution. The ledger publishes per day and
currency, not per segment: with a segment filter there is nothing to compare.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from services.reporting.customers.tables import CustomerFacts
from services.reporting.pnl.tables import LedgerTotals, PnlCube
from services.reporting.reports.filters import where_period
from shared.types import CENT

SUMMED = ("revenue", "discounts", "returns", "cost_of_goods", "cost_to_serve", "allocations")
MEASURES = (*SUMMED, "net_contribution")
ZERO = Decimal(0)


def combine(customers, totals, ledger: dict) -> dict:
    """Σ per-customer exact figures against the total, and both against the ledger;
    all exact, so any difference is a defect, reported rather than rounded away."""
    summed = [value or ZERO for value in customers[1:]]
    exact = totals["_exact"][0]
    differences = {
        name: str(summed[i] - exact[name])
        for i, name in enumerate(SUMMED)
        if summed[i] != exact[name]
    }
    return {
        "customers": int(customers[0]),
        "balanced": not differences and ledger["balanced"],
        "differences": differences,
        "ledger": ledger,
    }


def survivors(session) -> dict:
    """Each merged customer → the customer its entries count under, as in the
    ledger: the end of its chain of merges."""
    merged = dict(
        session.execute(
            select(CustomerFacts.customer_id, CustomerFacts.merged_into).where(
                CustomerFacts.merged_into.is_not(None)
            )
        ).all()
    )
    out = {}
    for customer in merged:
        last, seen = customer, {customer}
        while last in merged and merged[last] not in seen:  # a cycle stops where it closes
            last = merged[last]
            seen.add(last)
        out[customer] = last
    return out


def reconcile(session, args: dict, zone=None) -> dict:
    """Reporting's P&L of ``args``' currency and period against the ledger's."""
    if args.get("segment") is not None:
        return {
            "compared": False,
            "balanced": True,
            "differences": [],
            "why": "the ledger publishes totals per day and currency, not per segment",
        }
    ours = {day: _ours(values) for day, *values in session.execute(_per_day(args))}
    published = list(session.scalars(_published(args)))
    theirs = {row.day: _theirs(row) for row in published}
    differences = [d for day in sorted(theirs) for d in _compare(day, theirs[day], ours.get(day))]
    differences += _compare(
        "total", _sum(theirs.values()), _sum([ours[day] for day in theirs if day in ours])
    )
    missing = sorted(
        day for day, values in ours.items() if day not in theirs and any(values.values())
    )
    zones = sorted({row.timezone for row in published})
    wrong_zone = zone is not None and any(name != zone.key for name in zones)
    out = {
        "compared": True,
        "days_published": len(theirs),
        "days_without_ledger_totals": [day.isoformat() for day in missing],
        "differences": differences,
        "balanced": not differences and not wrong_zone,
    }
    if wrong_zone:
        out["timezone"] = (
            f"the ledger's days are in {', '.join(zones)}, reporting's in "
            f"{zone.key}: set REPORTING_TIMEZONE to SALES_TIMEZONE"
        )
    return out


def _per_day(args):
    query = select(PnlCube.day, *(func.sum(getattr(PnlCube, n)) for n in SUMMED)).where(
        PnlCube.currency == args["currency"]
    )
    return where_period(query, PnlCube.day, args.get("start"), args.get("end")).group_by(
        PnlCube.day
    )


def _published(args):
    query = select(LedgerTotals).where(LedgerTotals.currency == args["currency"])
    return where_period(query, LedgerTotals.day, args.get("start"), args.get("end"))


def _ours(values) -> dict:
    figures = {name: Decimal(value or 0) for name, value in zip(SUMMED, values)}
    figures["net_contribution"] = (
        figures["revenue"]
        - figures["returns"]
        - figures["cost_of_goods"]
        - figures["cost_to_serve"]
        - figures["allocations"]
    )
    return figures


def _theirs(row) -> dict:
    figures = {name: getattr(row, name) for name in MEASURES}
    figures["revenue"] = row.revenue - row.discounts
    return figures


def _sum(days) -> dict:
    return {name: sum((day[name] for day in days), ZERO) for name in MEASURES}


def _compare(day, ledger: dict, ours: dict | None) -> list[dict]:
    ours = ours or dict.fromkeys(MEASURES, ZERO)
    return [
        {
            "day": day if isinstance(day, str) else day.isoformat(),
            "measure": name,
            "ledger": _text(ledger[name]),
            "reporting": _text(ours[name]),
            "difference": _text(ours[name] - ledger[name]),
        }
        for name in MEASURES
        if ours[name] != ledger[name]
    ]


def _text(amount: Decimal) -> str:
    """Cents as cents; a finer amount (figures counted before the rule) in full."""
    cents = amount.quantize(CENT)
    return str(cents if cents == amount else amount.normalize())
