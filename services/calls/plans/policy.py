"""The contact-frequency cap: the company's policy of at most ``max_calls`` calls to
one customer within any ``per_days`` days, across all plans and channels.

Until a manager sets it there is no cap. It is applied when calls are planned: a
slot that would put more than ``max_calls`` calls within ``per_days`` of each other
is not planned (and counted as capped). Follow-ups the customer asked for (a
callback) and escalations of a complaint are not capped.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.calls.calls.tables import Call
from services.calls.plans.tables import ContactPolicy
from shared.clock import utcnow

POLICY_ID = 1


def current(uow) -> ContactPolicy | None:
    with uow.reader() as session:
        policy = session.get(ContactPolicy, POLICY_ID)
    return policy if policy is not None and policy.max_calls else None


def describe(uow) -> dict:
    policy = current(uow)
    if policy is None:
        return {"max_calls": None, "per_days": None, "updated_at": None}
    return {
        "max_calls": policy.max_calls,
        "per_days": policy.per_days,
        "updated_at": policy.updated_at,
    }


def set_policy(uow, max_calls: int | None, per_days: int) -> dict:
    with uow() as work:
        policy = work.session.get(ContactPolicy, POLICY_ID)
        if policy is None:
            policy = ContactPolicy(id=POLICY_ID)
            work.session.add(policy)
        policy.max_calls, policy.per_days, policy.updated_at = max_calls, per_days, utcnow()
    return describe(uow)


def booked(
    session: Session, customer_ids: list[str], first: datetime, policy: ContactPolicy
) -> dict[str, list[datetime]]:
    """Every live call of these customers from ``per_days`` before ``first`` on, by
    customer (``fits`` ignores those too far from a slot). No upper bound on
    ``due_at``: as in ``scheduling._existing``, a range on both the customer and the
    time lets PostgreSQL's generic plan scan every call in the time range instead of
    the chunk's customers' calls."""
    span = timedelta(days=policy.per_days)
    query = select(Call.customer_id, Call.due_at).where(
        Call.status.in_(("scheduled", "completed")), Call.due_at >= first - span
    )
    if len(customer_ids) > 500:
        query = query.where(Call.customer_id.between(min(customer_ids), max(customer_ids)))
    else:
        query = query.where(Call.customer_id.in_(customer_ids))
    found: dict[str, list[datetime]] = defaultdict(list)
    for customer_id, due_at in session.execute(query):
        found[customer_id].append(due_at)
    return found


def fits(calls: list[datetime], due: datetime, policy: ContactPolicy) -> bool:
    """Whether a call at ``due`` keeps every ``per_days`` window within the cap."""
    span = timedelta(days=policy.per_days)
    near = sorted([c for c in calls if abs(c - due) < span] + [due])
    return all(
        sum(start <= other < start + span for other in near) <= policy.max_calls
        for start in near
        if start <= due
    )
