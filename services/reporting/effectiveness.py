"""The call-effectiveness report: does routine calling improve the relationship?

The window (``from``..``to``, default the last six months) is taken in whole local
calendar months and split into a first and a second half (an odd middle month
counts for calls only). Per customer with a known or unknown segment:
- calls: completed calls in the window; planned: calls planned in it;
- Δ satisfaction: mean satisfaction (1–5) in the second half − in the first;
- Δ relationship score: the same for the score 0–100 = mean of the available
  ((satisfaction − 1) × 25, propensity);
- Δ revenue: revenue less returns in the second half − in the first (one currency).
Per segment, Spearman's rho of calls against each change (customers with both
halves measured), and on-plan (calls ≥ planned) vs under-called (calls < planned)
customers' mean Δ satisfaction, by Welch. See ``stats`` for the methods.

Read from the per-customer monthly rows (``customer_month``, ``pnl_month``), so
the cost grows with customers × months of the window, not with calls or sales;
the per-customer changes and statistics are computed in ``effect_measures``.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from sqlalchemy import func, select, type_coerce, union_all

from services.reporting import effect_measures, periods
from services.reporting.filters import UNKNOWN_SEGMENT, default_period
from services.reporting.models import CustomerDim
from services.reporting.models_facts import CustomerMonth, PnlDaily
from services.reporting.models_rollups import PnlMonth
from shared.types import Money

WINDOW_DAYS = 183


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _halves(months):
    half = len(months) // 2
    return set(months[:half]), set(months[len(months) - half:])


def _customers(session, args, months, first, second):
    """One row per customer: segment, planned, calls, and per half the sums the
    satisfaction and relationship means need. Each half (and an odd middle month)
    is summed by its own plain range query over ``customer_month``: the key order
    streams it, where one query picking halves row by row cost twice as much."""
    m = CustomerMonth
    parts = [(months[0], max(first), 0), (min(second), months[-1], 1)]
    if len(months) % 2:
        middle = months[len(months) // 2]
        parts.append((middle, middle, None))
    people: dict = {}
    for low, high, half in parts:
        query = select(m.customer_id, func.sum(m.planned), func.sum(m.calls), func.sum(m.sat_n),
                       func.sum(m.sat_sum), func.sum(m.prop_n), func.sum(m.prop_sum)
                       ).where(m.month.between(low, high)).group_by(m.customer_id)
        for cid, planned, calls, *sums in session.execute(query):
            row = people.setdefault(cid, [0, 0] + [0] * 8)
            row[0] += planned or 0
            row[1] += calls or 0
            if half is not None:
                row[2 + 4 * half:6 + 4 * half] = sums
    segments = dict(session.execute(select(CustomerDim.customer_id, CustomerDim.segment)).all())
    wanted = args.get("segment")
    out = []
    for cid, row in people.items():
        segment = segments.get(cid, UNKNOWN_SEGMENT)
        if wanted is None or segment == wanted:
            out.append((cid, segment, *row))
    return out


def _revenue(session, args, first_end: date, second_start: date, start: date, end: date):
    """Per customer and half, revenue less returns: whole months from ``pnl_month``,
    a last month that ``end`` cuts short from ``pnl_daily``; a half at a time."""
    out = []
    for second, (low, high) in enumerate(((start, first_end), (second_start, end))):
        parts = periods.split(low, high)
        selects = [_revenue_part(PnlDaily, args).where(PnlDaily.day.between(lo, hi))
                   for lo, hi in parts.edges]
        if not parts.months_empty():
            selects.append(periods.where_months(_revenue_part(PnlMonth, args),
                                                PnlMonth.month, parts))
        query = selects[0] if len(selects) == 1 else select(
            (rows := union_all(*selects).subquery()).c.customer_id,
            type_coerce(func.sum(rows.c.amount), Money())).group_by(rows.c.customer_id)
        out += [(cid, second, amount) for cid, amount in session.execute(query)]
    return out


def _revenue_part(model, args):
    amount = type_coerce(func.sum(model.revenue) - func.sum(model.returns), Money())
    return (select(model.customer_id, amount.label("amount"))
            .where(model.currency == args["currency"]).group_by(model.customer_id))


def effectiveness_report(uow, zone, args: dict) -> dict:
    start, end = default_period(args, zone, WINDOW_DAYS)
    months = _months(start, end)
    first, second = _halves(months)
    if not first:
        return {"start": start, "end": end, "segments": [],
                "insufficient": "the window needs at least two calendar months"}
    first_end = max(first).replace(day=28) + timedelta(days=4)
    first_end = first_end - timedelta(days=first_end.day)
    with uow.reader() as session:
        rows = _customers(session, args, months, first, second)
        revenue = _revenue(session, args, first_end, min(second), months[0],
                           max(end, months[-1]))
    people = effect_measures.per_customer(rows, revenue)
    segments = sorted(set(people["segment"]))
    return {"start": months[0], "end": end, "currency": args["currency"],
            "halves": {"first": [min(first), first_end], "second": [min(second), end]},
            "segments": [effect_measures.segment_stats(name, people, people["segment"] == name)
                         for name in segments],
            "all": effect_measures.segment_stats("all", people,
                                                 np.ones(len(people["calls"]), bool))}


def table(report: dict):
    columns = ["segment", "customers", "measure", "n", "rho", "ci95_low", "ci95_high",
               "p_value", "note"]

    def rows():
        for seg in report.get("segments", []):
            for measure, c in seg["correlations"].items():
                ci = c.get("ci95") or [None, None]
                yield [seg["segment"], seg["customers"], measure, c["n"], c.get("rho"),
                       ci[0], ci[1], c.get("p_value"), c.get("insufficient", "")]
    return columns, rows()


def chart(report: dict, plot):
    rows = [(s["segment"], s["correlations"]["satisfaction"])
            for s in report.get("segments", []) if "rho" in s["correlations"]["satisfaction"]]
    return plot.intervals("Calls vs change in satisfaction: Spearman rho with 95% CI",
                          [name for name, _ in rows], [c["rho"] for _, c in rows],
                          [c["ci95"][0] for _, c in rows], [c["ci95"][1] for _, c in rows],
                          xlabel="Spearman rank correlation (rho, unitless)")
