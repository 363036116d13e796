"""Each customer's facts (``customer_facts``) as calls change them, and its
``overdue_since``: the time it is due by under ``shared.coverage`` — its plans'
tightest policy after its last qualifying contact, or, never contacted, its first
planned call's due time. A plan's policy is the one its latest call to the customer
that is not cancelled carries (``call_state.max_gap_days``).

The due time is recomputed from the customer's calls and facts, so it does not
depend on the order events arrive in. Projections only mark a customer as changed, and queue
what a completed call does to its facts; both are done once per transaction, just
before it commits: the facts of every customer concerned read in one query, then
one query for all their overdue times. The queued changes are applied in the order
they were made, so the facts end as if applied one by one; the overdue time depends
only on the state the transaction ends with, so computing it once at the end gives
what computing it after every event would.
"""

from __future__ import annotations

from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.reporting.calls.tables import CallState
from services.reporting.customers.tables import CustomerFacts
from services.reporting.store import locked_rows as rows
from shared import coverage as rule


def customer_facts(session: Session, customer_id: str) -> CustomerFacts:
    """The customer's facts, with the changes queued for them applied."""
    facts = rows.row_for_update(session, CustomerFacts, {"customer_id": customer_id})
    pending = session.info.get("overdue")
    for change in pending["changes"].pop(customer_id, ()) if pending else ():
        change(facts)
    return facts


def change_later(session: Session, customer_id: str, change) -> None:
    """Apply ``change(facts)`` to the customer's facts before the commit (or as soon
    as anything here reads them)."""
    _pending(session)["changes"].setdefault(customer_id, []).append(change)


def mark(session: Session, customer_id: str) -> None:
    """Recompute this customer's overdue time before the transaction commits."""
    _pending(session)["marked"].add(customer_id)


def _pending(session: Session) -> dict:
    pending = session.info.get("overdue")
    if pending is None:
        pending = session.info["overdue"] = {"marked": set(), "changes": {}}
        sa_event.listen(session, "before_commit", refresh, once=True)
    return pending


def refresh(session: Session) -> None:
    """Apply the queued changes and recompute every marked customer now (a check
    that reads before committing)."""
    rows.write_sets(session)  # calls completed blind count here
    pending = session.info.get("overdue")
    if pending is None:
        return
    # sorted: one lock order for all; read in one query, changes may mark more
    concerned = sorted(pending["changes"].keys() | pending["marked"])
    rows.hold_rows(session, CustomerFacts, [{"customer_id": c} for c in concerned])
    # What that read did not find is most likely new: inserted together, not looked
    # for again one by one (a backlog's first sight of its customers).
    rows.insert_new(
        session,
        CustomerFacts,
        [
            {"customer_id": c}
            for c in concerned
            if rows.held(session, CustomerFacts, {"customer_id": c}) is None
        ],
    )
    for customer_id in list(pending["changes"]):
        customer_facts(session, customer_id)
    marked = sorted(pending["marked"])
    if marked:
        _recompute(
            session, {customer_id: customer_facts(session, customer_id) for customer_id in marked}
        )
    session.info.pop("overdue")


def _recompute(session: Session, facts: dict) -> None:
    session.flush()
    ids, live = list(facts), CallState.status != "cancelled"
    first = (
        select(CallState.customer_id, func.min(CallState.due_at))
        .where(CallState.customer_id.in_(ids), live, CallState.due_at.is_not(None))
        .group_by(CallState.customer_id)
    )
    latest = (
        select(
            CallState.customer_id,
            CallState.max_gap_days,
            func.row_number()
            .over(
                partition_by=(CallState.customer_id, CallState.plan_id),
                order_by=(CallState.due_at.desc(), CallState.call_id.desc()),
            )
            .label("n"),
        )
        .where(CallState.customer_id.in_(ids), live, CallState.max_gap_days.is_not(None))
        .subquery()
    )
    policy = (
        select(latest.c.customer_id, func.min(latest.c.max_gap_days))
        .where(latest.c.n == 1)
        .group_by(latest.c.customer_id)
    )
    firsts, policies = dict(session.execute(first).all()), dict(session.execute(policy).all())
    for customer_id, row in facts.items():
        row.overdue_since = rule.due_by(
            row.last_contact_at, policies.get(customer_id), firsts.get(customer_id)
        )
