"""The coverage report: customers overdue against their call plan, and by how much.

A customer is overdue from the due time of the oldest call still owed to them
(scheduled and not done, or missed) that no later contact has made up for; kept
per customer in ``customer_facts.overdue_since``, so this answers with an indexed
range read, not a scan of calls.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.reporting.customers.tables import CustomerFacts
from services.reporting.reports.filters import join_segment, segment_of
from services.reporting.tables import CustomerDim
from shared import clock

BANDS = ((7, "1-7 days"), (30, "8-30 days"), (90, "31-90 days"), (None, "over 90 days"))


def coverage_report(uow, args: dict, now: datetime | None = None) -> dict:
    now = now or clock.now()
    cutoff = now - timedelta(days=args.get("min_days", 0))
    query = (
        select(
            CustomerFacts.customer_id,
            segment_of(CustomerFacts.customer_id),
            CustomerFacts.overdue_since,
            CustomerFacts.last_contact_at,
        )
        .select_from(CustomerFacts)
        .where(CustomerFacts.overdue_since < cutoff, CustomerFacts.merged_into.is_(None))
    )
    query = join_segment(query, CustomerFacts.customer_id, args.get("segment"))
    known = select(CustomerDim.segment, func.count()).group_by(CustomerDim.segment)
    with uow.reader() as session:
        rows = session.execute(query.order_by(CustomerFacts.overdue_since)).all()
        customers = dict(session.execute(known).all())
    overdue = [
        {
            "customer_id": cid,
            "segment": seg,
            "overdue_since": since,
            "days_overdue": round((now - since).total_seconds() / 86400, 1),
            "last_contact_at": last,
        }
        for cid, seg, since, last in rows
    ]
    return {
        "as_of": now,
        "min_days": args.get("min_days", 0),
        "overdue_customers": len(overdue),
        "by_segment": _by_segment(overdue, customers),
        "customers": overdue[: args.get("limit", 200)],
    }


def _band(days: float) -> str:
    return next(label for limit, label in BANDS if limit is None or days <= limit)


def _by_segment(overdue: list, customers: dict) -> list:
    out: dict = {}
    for row in overdue:
        seg = out.setdefault(
            row["segment"],
            {
                "segment": row["segment"],
                "overdue": 0,
                "max_days": 0.0,
                "bands": {label: 0 for _, label in BANDS},
            },
        )
        seg["overdue"] += 1
        seg["max_days"] = max(seg["max_days"], row["days_overdue"])
        seg["bands"][_band(row["days_overdue"])] += 1
    for seg in out.values():
        known = customers.get(seg["segment"], 0)
        seg["customers"] = known
        seg["compliance"] = round(1 - seg["overdue"] / known, 4) if known else None
    return sorted(out.values(), key=lambda s: s["segment"])


def table(report: dict):
    columns = ["customer_id", "segment", "overdue_since", "days_overdue", "last_contact_at"]
    return columns, ([row[c] for c in columns] for row in report["customers"])


def chart(report: dict, plot):
    segments = report["by_segment"]
    bands = [label for _, label in BANDS]
    return plot.bars(
        "Customers overdue against their call plan",
        [s["segment"] for s in segments],
        {band: [s["bands"][band] for s in segments] for band in bands},
        xlabel="segment",
        ylabel="customers overdue (count)",
    )
