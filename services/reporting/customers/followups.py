"""Proposed next actions per customer, each with its reason, from customer facts:
- ``call_now``: propensity at the last scored call ≥ ``min_propensity`` and no call
  for ``days`` days;
- ``resolve_complaint``: the last contact was a complaint and nothing since;
- ``catch_up``: overdue against the call plan for more than 7 days;
- ``followup_due``: a follow-up the calls service created, due, with no contact since.
Customers who opted out of everything, were erased or merged get no proposals.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from services.reporting.customers.tables import CustomerFacts, FollowupOpen
from services.reporting.reports.filters import join_segment, segment_of
from shared import clock

OVERDUE_DAYS = 7
# Plain columns, not ORM objects: this can return thousands of customers.
FACTS = (
    CustomerFacts.customer_id,
    CustomerFacts.last_outcome,
    CustomerFacts.last_contact_at,
    CustomerFacts.last_propensity,
    CustomerFacts.last_call_at,
    CustomerFacts.overdue_since,
)


def _reachable(query):
    return query.where(CustomerFacts.opted_out_at.is_(None), CustomerFacts.merged_into.is_(None))


def followups_report(uow, args: dict, now: datetime | None = None) -> dict:
    now = now or clock.now()
    quiet = now - timedelta(days=args.get("days", 30))
    floor = args.get("min_propensity", 70)
    facts = (
        select(*FACTS, segment_of(CustomerFacts.customer_id).label("segment"))
        .select_from(CustomerFacts)
        .where(
            or_(
                (CustomerFacts.last_propensity >= floor) & (CustomerFacts.last_call_at < quiet),
                CustomerFacts.last_outcome == "complaint",
                CustomerFacts.overdue_since < now - timedelta(days=OVERDUE_DAYS),
            )
        )
    )
    facts = join_segment(_reachable(facts), CustomerFacts.customer_id, args.get("segment"))
    due = (
        select(FollowupOpen, segment_of(FollowupOpen.customer_id))
        .select_from(FollowupOpen)
        .outerjoin(CustomerFacts, CustomerFacts.customer_id == FollowupOpen.customer_id)
        .where(
            FollowupOpen.due_at < now,
            or_(
                CustomerFacts.last_contact_at.is_(None),
                CustomerFacts.last_contact_at < FollowupOpen.created_at,
            ),
        )
    )
    due = join_segment(_reachable(due), FollowupOpen.customer_id, args.get("segment"))
    with uow.reader() as session:
        proposals = [
            p
            for row in session.execute(facts).all()
            for p in _from_facts(row, row.segment, now, quiet, floor)
        ]
        proposals += [_from_followup(row, seg) for row, seg in session.execute(due).all()]
    proposals.sort(key=lambda p: (p["priority"], p["customer_id"]))
    return {
        "as_of": now,
        "days": args.get("days", 30),
        "min_propensity": floor,
        "proposals": len(proposals),
        "actions": proposals[: args.get("limit", 200)],
    }


def _days(now, then) -> int:
    return int((now - then).total_seconds() // 86400)


def _from_facts(f, segment, now, quiet, floor) -> list:
    out = []
    if f.last_outcome == "complaint":
        out.append(
            _action(
                f,
                segment,
                "resolve_complaint",
                1,
                f"the last contact, {f.last_contact_at:%Y-%m-%d}, was a complaint "
                "and there has been no contact since",
            )
        )
    if (
        f.last_propensity is not None
        and f.last_propensity >= floor
        and f.last_call_at
        and f.last_call_at < quiet
    ):
        out.append(
            _action(
                f,
                segment,
                "call_now",
                2,
                f"propensity {f.last_propensity} (≥ {floor}) at the last scored call "
                f"and no call for {_days(now, f.last_call_at)} days",
            )
        )
    if f.overdue_since and f.overdue_since < now - timedelta(days=OVERDUE_DAYS):
        out.append(
            _action(
                f,
                segment,
                "catch_up",
                3,
                f"overdue against the call plan for {_days(now, f.overdue_since)} "
                f"days (since {f.overdue_since:%Y-%m-%d})",
            )
        )
    return out


def _action(f, segment, action, priority, reason) -> dict:
    return {
        "customer_id": f.customer_id,
        "segment": segment,
        "action": action,
        "priority": priority,
        "reason": reason,
    }


def _from_followup(row: FollowupOpen, segment) -> dict:
    reason = f"{row.kind} follow-up due {row.due_at:%Y-%m-%d} with no contact since"
    return {
        "customer_id": row.customer_id,
        "segment": segment,
        "action": "followup_due",
        "priority": 2,
        "reason": reason + (f": {row.reason}" if row.reason else ""),
    }


def table(report: dict):
    columns = ["customer_id", "segment", "action", "priority", "reason"]
    return columns, ([a[c] for c in columns] for a in report["actions"])


def chart(report: dict, plot):
    counts: dict = {}
    for a in report["actions"]:
        counts[a["action"]] = counts.get(a["action"], 0) + 1
    return plot.bars(
        "Proposed follow-up actions",
        list(counts),
        {"customers": list(counts.values())},
        xlabel="proposed action",
        ylabel="proposals (count)",
    )
