"""The data-quality report, from customer.quality_flagged/resolved and
customer.gaps_detected: open and resolved items by rule and segment, the mean time
to resolve, and the profile fields most often missing.

``segment`` applies to every figure: an item counts under the segment its events
carry, a customer's gaps under the customer's segment (``customer_dim``, as the
other customer-level reports), ``unknown`` for either until it is known.
"""

from __future__ import annotations

from sqlalchemy import func, select

from services.reporting.customers.tables import CustomerGaps, QualityItem
from services.reporting.reports.filters import UNKNOWN_SEGMENT, join_segment


def quality_report(uow, args: dict) -> dict:
    segment = func.coalesce(QualityItem.segment, UNKNOWN_SEGMENT)
    query = select(QualityItem.rule, segment, QualityItem.flagged_at, QualityItem.resolved_at)
    if args.get("segment") is not None:
        query = query.where(segment == args["segment"])
    gaps_query = join_segment(
        select(CustomerGaps.missing), CustomerGaps.customer_id, args.get("segment")
    )
    with uow.reader() as session:
        items = session.execute(query).all()
        gaps = list(session.scalars(gaps_query))
    rules: dict = {}
    for rule, segment, flagged, resolved in items:
        r = rules.setdefault(
            (rule, segment),
            {"rule": rule, "segment": segment, "open": 0, "resolved": 0, "_hours": []},
        )
        r["resolved" if resolved else "open"] += 1
        if resolved and flagged:
            r["_hours"].append((resolved - flagged).total_seconds() / 3600)
    for r in rules.values():
        hours = r.pop("_hours")
        r["mean_hours_to_resolve"] = round(sum(hours) / len(hours), 1) if hours else None
    fields: dict = {}
    for missing in gaps:
        for name in filter(None, missing.split(",")):
            fields[name] = fields.get(name, 0) + 1
    rows = sorted(rules.values(), key=lambda r: (-r["open"], r["rule"], r["segment"]))
    return {
        "open": sum(r["open"] for r in rows),
        "resolved": sum(r["resolved"] for r in rows),
        "rules": rows,
        "customers_with_gaps": sum(1 for g in gaps if g),
        "missing_fields": [
            {"field": f, "customers": n} for f, n in sorted(fields.items(), key=lambda kv: -kv[1])
        ],
    }


def table(report: dict):
    columns = ["rule", "segment", "open", "resolved", "mean_hours_to_resolve"]
    return columns, ([r[c] for c in columns] for r in report["rules"])


def chart(report: dict, plot):
    rows = report["rules"]
    return plot.bars(
        "Data-quality items by rule",
        [f"{r['rule']} / {r['segment']}" for r in rows],
        {"open": [r["open"] for r in rows], "resolved": [r["resolved"] for r in rows]},
        xlabel="rule / segment",
        ylabel="items (count)",
    )
