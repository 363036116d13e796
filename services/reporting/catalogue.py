"""Report use cases: each answers from the maintained read models in a few short
reads, never from the raw event history. ``REPORTS`` names each report's module,
which computes it (``report``) and renders it as a table (CSV) and a chart (PNG).

Days are local dates in the reporting time zone, bounds inclusive. Money figures
are exact sums rounded once, at the end, to cents half-up.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from services.reporting.agents import outsourcers, performance
from services.reporting.calls import activity, coverage, findings
from services.reporting.customers import followups, quality
from services.reporting.pnl import report as pnl
from services.reporting.relationships import effectiveness
from services.reporting.reports.filters import UNKNOWN_SEGMENT  # noqa: F401 - re-exported
from services.reporting.sales import report as sales

REPORTS = {
    "activity": (activity, lambda uow, zone, a: activity.activity_report(uow, zone, a)),
    "coverage": (coverage, lambda uow, zone, a: coverage.coverage_report(uow, a)),
    "findings": (findings, lambda uow, zone, a: findings.findings_report(uow, zone, a)),
    "sales": (sales, lambda uow, zone, a: sales.sales_report(uow, a)),
    "pnl": (pnl, lambda uow, zone, a: pnl.pnl_report(uow, a, zone=zone)),
    "call-effectiveness": (
        effectiveness,
        lambda uow, zone, a: effectiveness.effectiveness_report(uow, zone, a),
    ),
    "outsourcers": (outsourcers, lambda uow, zone, a: outsourcers.parity_report(uow, a)),
    "agents": (performance, lambda uow, zone, a: performance.agents_report(uow, zone, a)),
    "data-quality": (quality, lambda uow, zone, a: quality.quality_report(uow, a)),
    "follow-ups": (followups, lambda uow, zone, a: followups.followups_report(uow, a)),
}


def report(name: str, uow, zone: ZoneInfo, args: dict) -> dict:
    return REPORTS[name][1](uow, zone, args)


def activity_report(
    uow, zone: ZoneInfo, start: date | None = None, end: date | None = None
) -> dict:
    """Calls planned and completed per day (only days with any), and the totals."""
    return activity.activity_report(uow, zone, {"start": start, "end": end})


def pnl_report(
    uow,
    currency: str,
    start: date | None = None,
    end: date | None = None,
    zone: ZoneInfo | None = None,
) -> dict:
    """Revenue, cost and margin of one currency by customer segment, and the totals."""
    return pnl.pnl_report(uow, {"currency": currency, "start": start, "end": end}, zone=zone)
