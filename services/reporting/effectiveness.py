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
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from services.reporting import advice
from services.reporting.filters import default_period, join_segment, segment_of
from services.reporting.models_facts import CustomerMonth, PnlDaily
from services.reporting.stats import spearman, welch

WINDOW_DAYS = 183
MEASURES = ("satisfaction", "relationship", "revenue")


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _halves(months):
    half = len(months) // 2
    return set(months[:half]), set(months[len(months) - half:])


def _customers(session, args, months):
    query = select(CustomerMonth.customer_id, segment_of(CustomerMonth.customer_id),
                   CustomerMonth.month, CustomerMonth.planned, CustomerMonth.calls,
                   CustomerMonth.sat_n, CustomerMonth.sat_sum, CustomerMonth.prop_n,
                   CustomerMonth.prop_sum).select_from(CustomerMonth)
    query = join_segment(query, CustomerMonth.customer_id, args.get("segment"))
    return session.execute(query.where(CustomerMonth.month.between(months[0], months[-1]))).all()


def _revenue(session, args, first_end: date, second_start: date, start: date, end: date):
    half = (PnlDaily.day >= second_start).label("second")
    amount = func.sum(PnlDaily.revenue) - func.sum(PnlDaily.returns)
    query = (select(PnlDaily.customer_id, half, amount)
             .where(PnlDaily.currency == args["currency"], PnlDaily.day.between(start, end),
                    (PnlDaily.day <= first_end) | (PnlDaily.day >= second_start))
             .group_by(PnlDaily.customer_id, half))
    return session.execute(query).all()


def _score(sat_n, sat_sum, prop_n, prop_sum):
    parts = ([(sat_sum / sat_n - 1) * 25] if sat_n else []) + \
        ([prop_sum / prop_n] if prop_n else [])
    return sum(parts) / len(parts) if parts else None


def per_customer(rows, revenue, first, second) -> dict:
    people: dict = {}
    for cid, segment, month, planned, calls, sat_n, sat_sum, prop_n, prop_sum in rows:
        p = people.setdefault(cid, {"segment": segment, "calls": 0, "planned": 0,
                                    "halves": [[0, 0, 0, 0], [0, 0, 0, 0]],
                                    "revenue": [Decimal(0), Decimal(0)]})
        p["calls"] += calls
        p["planned"] += planned
        for i, months in enumerate((first, second)):
            if month in months:
                h = p["halves"][i]
                for j, v in enumerate((sat_n, sat_sum, prop_n, prop_sum)):
                    h[j] += v
    for cid, second_half, amount in revenue:
        if cid in people:
            people[cid]["revenue"][1 if second_half else 0] += amount or 0
    for p in people.values():
        (a, b) = p["halves"]
        p["d_satisfaction"] = (b[1] / b[0] - a[1] / a[0]) if a[0] and b[0] else None
        ra, rb = _score(*a), _score(*b)
        p["d_relationship"] = rb - ra if ra is not None and rb is not None else None
        p["d_revenue"] = float(p["revenue"][1] - p["revenue"][0])
    return people


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
        rows = _customers(session, args, months)
        revenue = _revenue(session, args, first_end, min(second), months[0],
                           max(end, months[-1]))
    people = per_customer(rows, revenue, first, second)
    segments = sorted({p["segment"] for p in people.values()})
    return {"start": months[0], "end": end, "currency": args["currency"],
            "halves": {"first": [min(first), first_end], "second": [min(second), end]},
            "segments": [_segment(name, [p for p in people.values() if p["segment"] == name])
                         for name in segments],
            "all": _segment("all", list(people.values()))}


def _segment(name: str, people: list) -> dict:
    correlations = {}
    for measure in MEASURES:
        pairs = [(p["calls"], p[f"d_{measure}"]) for p in people if p[f"d_{measure}"] is not None]
        correlations[measure] = spearman([c for c, _ in pairs], [d for _, d in pairs])
    cohorts = _cohorts(people)
    return {"segment": name, "customers": len(people), "correlations": correlations,
            "cohorts": cohorts, "proposal": advice.propose(name, correlations, cohorts)}


def _cohorts(people: list) -> dict:
    def sums(group):
        values = [p["d_satisfaction"] for p in group if p["d_satisfaction"] is not None]
        return len(values), sum(values), sum(v * v for v in values)
    planned = [p for p in people if p["planned"] > 0]
    on_plan = sums([p for p in planned if p["calls"] >= p["planned"]])
    under = sums([p for p in planned if p["calls"] < p["planned"]])
    return {"measure": "satisfaction change (points on the 1–5 scale)",
            "on_plan": _mean(on_plan), "under_called": _mean(under),
            "difference": welch(on_plan, under)}


def _mean(sums) -> dict:
    n, total, _ = sums
    return {"n": n, "mean": round(total / n, 4) if n else None}


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
