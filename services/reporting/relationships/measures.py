"""Call effectiveness per customer, as columns: calls, planned and the changes
between the window's halves, and the statistics over them per segment.

One row per customer arrives summed from the year-to-date rows; the changes and every
segment's statistics are computed on numpy columns, so 5,000 customers take a
few milliseconds rather than a Python loop per customer and segment.
"""

from __future__ import annotations

import numpy as np

from services.reporting.relationships import advice
from services.reporting.reports.stats import spearman, welch
from shared.types import PLACES

MEASURES = ("satisfaction", "relationship", "revenue")
MONEY_SCALE = 10**PLACES  # money is read as its stored ten-thousandths


def _score(sat_n, sat_sum, prop_n, prop_sum):
    """The relationship score 0–100: the mean of the available of
    (mean satisfaction − 1) × 25 and mean propensity; NaN with neither."""
    with np.errstate(divide="ignore", invalid="ignore"):
        sat = np.where(sat_n > 0, (sat_sum / sat_n - 1) * 25, 0.0)
        prop = np.where(prop_n > 0, prop_sum / prop_n, 0.0)
        parts = (sat_n > 0).astype(float) + (prop_n > 0)
        return np.where(parts > 0, (sat + prop) / np.maximum(parts, 1), np.nan)


def per_customer(segment, totals, first, second, revenue) -> dict:
    """Columns from a row per customer: its segment, (planned, calls) in the window,
    (satisfaction n, Σ, propensity n, Σ) of each half, and (revenue − returns) of
    each half in ten-thousandths; the change is the second half less the first."""
    a, b = first.astype(float).T, second.astype(float).T
    with np.errstate(divide="ignore", invalid="ignore"):
        d_sat = np.where((a[0] > 0) & (b[0] > 0), b[1] / b[0] - a[1] / a[0], np.nan)
    return {
        "segment": segment,
        "planned": totals[:, 0].astype(float),
        "calls": totals[:, 1].astype(float),
        "d_satisfaction": d_sat,
        "d_relationship": _score(*b) - _score(*a),
        "d_revenue": (revenue[:, 1] - revenue[:, 0]) / MONEY_SCALE,
    }


def segment_stats(name: str, people: dict, mask) -> dict:
    calls = people["calls"][mask]
    correlations = {}
    for measure in MEASURES:
        change = people[f"d_{measure}"][mask]
        known = ~np.isnan(change)
        correlations[measure] = spearman(calls[known], change[known])
    cohorts = _cohorts(calls, people["planned"][mask], people["d_satisfaction"][mask])
    return {
        "segment": name,
        "customers": int(np.count_nonzero(mask)),
        "correlations": correlations,
        "cohorts": cohorts,
        "proposal": advice.propose(name, correlations, cohorts),
    }


def _cohorts(calls, planned, change) -> dict:
    def sums(group):
        values = change[group & ~np.isnan(change)]
        return len(values), float(values.sum()), float((values * values).sum())

    on_plan = sums((planned > 0) & (calls >= planned))
    under = sums((planned > 0) & (calls < planned))
    return {
        "measure": "satisfaction change (points on the 1–5 scale)",
        "on_plan": _mean(on_plan),
        "under_called": _mean(under),
        "difference": welch(on_plan, under),
    }


def _mean(sums) -> dict:
    n, total, _ = sums
    return {"n": n, "mean": round(total / n, 4) if n else None}
