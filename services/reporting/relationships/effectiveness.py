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
customers' mean Δ satisfaction, by Welch. See ``reports.stats`` for the methods.

Read from the per-customer year-to-date rows (``customer_ytd``, ``pnl_ytd``) of the
halves' boundary months, a row per customer each (see ``store.year_to_date``), and
for a last month that ``to`` cuts short from ``pnl_daily``; so the cost grows with
customers, not with months, calls or sales. The per-customer changes and the
statistics are computed on numpy columns in ``measures``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy import BigInteger, func, select, type_coerce

from services.reporting.pnl.tables import PnlDaily, PnlYtd
from services.reporting.relationships import measures
from services.reporting.relationships.tables import CustomerYtd
from services.reporting.reports import periods
from services.reporting.reports.filters import UNKNOWN_SEGMENT, default_period
from services.reporting.store import year_to_date
from services.reporting.tables import CustomerDim

WINDOW_DAYS = 183
SIGNALS = ("sat_n", "sat_sum", "prop_n", "prop_sum")


def _customers(session, args, months: list[date], half: int):
    """Customers with calls planned or made in the window: their ids, segments,
    (planned, calls) over the window and the score sums of each half."""
    ids, sums = year_to_date.read(
        session,
        CustomerYtd,
        ("planned", "calls") + SIGNALS,
        {
            "all": (months[0], months[-1]),
            "first": (months[0], months[half - 1]),
            "second": (months[-half], months[-1]),
        },
    )
    segments = dict(
        session.connection().execute(select(CustomerDim.customer_id, CustomerDim.segment)).all()
    )
    segment = np.array([segments.get(cid, UNKNOWN_SEGMENT) for cid in ids], dtype=object)
    keep = sums["all"][:, :2].any(axis=1)
    if args.get("segment") is not None:
        keep &= segment == args["segment"]
    return (
        [cid for cid, kept in zip(ids, keep) if kept],
        segment[keep],
        sums["all"][keep, :2],
        sums["first"][keep, 2:],
        sums["second"][keep, 2:],
    )


def _revenue(session, currency: str, ids: list, halves) -> np.ndarray:
    """Revenue less returns per customer of ``ids`` and half (ten-thousandths): whole
    months from ``pnl_ytd``, a last month that the window's end cuts short from
    ``pnl_daily``."""
    position = {cid: i for i, cid in enumerate(ids)}
    out = np.zeros((len(ids), 2), np.int64)
    parts = [periods.split(low, high) for low, high in halves]
    whole = {
        column: (part.first_month, periods.month_before(part.after_months))
        for column, part in enumerate(parts)
        if not part.months_empty()
    }
    found, sums = year_to_date.read(
        session, PnlYtd, ("revenue", "returns"), whole, currency=currency
    )
    for column, net in sums.items():
        _add(out[:, column], position, found, net[:, 0] - net[:, 1])
    for column, part in enumerate(parts):
        for first_day, last_day in part.edges:
            d = PnlDaily
            net = type_coerce(func.sum(d.revenue) - func.sum(d.returns), BigInteger)
            rows = (
                session.connection()
                .execute(
                    select(d.customer_id, net)
                    .where(d.currency == currency, d.day.between(first_day, last_day))
                    .group_by(d.customer_id)
                )
                .all()
            )
            _add(out[:, column], position, [r[0] for r in rows], [r[1] or 0 for r in rows])
    return out


def _add(column: np.ndarray, position: dict, ids, amounts) -> None:
    """Add ``amounts`` of the customers ``ids`` (each once) to their places in ``column``."""
    places = np.array([position.get(cid, -1) for cid in ids], np.int64)
    known = places >= 0
    column[places[known]] += np.asarray(amounts, np.int64)[known]


def effectiveness_report(uow, zone, args: dict) -> dict:
    start, end = default_period(args, zone, WINDOW_DAYS)
    months = periods.months(start, end)
    half = len(months) // 2
    if not half:
        return {
            "start": start,
            "end": end,
            "segments": [],
            "insufficient": "the window needs at least two calendar months",
        }
    first_end = periods.month_end(months[half - 1])
    with uow.reader() as session:
        ids, segment, totals, first, second = _customers(session, args, months, half)
        revenue = _revenue(
            session, args["currency"], ids, ((months[0], first_end), (months[-half], end))
        )
    people = measures.per_customer(segment, totals, first, second, revenue)
    return {
        "start": months[0],
        "end": end,
        "currency": args["currency"],
        "halves": {"first": [months[0], first_end], "second": [months[-half], end]},
        "segments": [
            measures.segment_stats(name, people, people["segment"] == name)
            for name in sorted(set(people["segment"]))
        ],
        "all": measures.segment_stats("all", people, np.ones(len(people["calls"]), bool)),
    }


def table(report: dict):
    columns = [
        "segment",
        "customers",
        "measure",
        "n",
        "rho",
        "ci95_low",
        "ci95_high",
        "p_value",
        "note",
    ]

    def rows():
        for seg in report.get("segments", []):
            for measure, c in seg["correlations"].items():
                ci = c.get("ci95") or [None, None]
                yield [
                    seg["segment"],
                    seg["customers"],
                    measure,
                    c["n"],
                    c.get("rho"),
                    ci[0],
                    ci[1],
                    c.get("p_value"),
                    c.get("insufficient", ""),
                ]

    return columns, rows()


def chart(report: dict, plot):
    rows = [
        (s["segment"], s["correlations"]["satisfaction"])
        for s in report.get("segments", [])
        if "rho" in s["correlations"]["satisfaction"]
    ]
    return plot.intervals(
        "Calls vs change in satisfaction: Spearman rho with 95% CI",
        [name for name, _ in rows],
        [c["rho"] for _, c in rows],
        [c["ci95"][0] for _, c in rows],
        [c["ci95"][1] for _, c in rows],
        xlabel="Spearman rank correlation (rho, unitless)",
    )
