"""The rolling schedule: every active plan keeps its calls planned ``horizon_days``
ahead, and an edit, a pause or an end takes effect on the calls ahead.

``extend_schedules`` is one pass of the calls job ``extend-schedules``: it first
aligns the calls ahead of every plan edited since its last pass (``realign``), then
plans each active plan's missing calls from now to now + its horizon through
``scheduling.schedule_plan`` (idempotent, consent- and cap-gated, in bounded
transactions). It never plans the past: a clock moved forward plans from the new
now, and what was due in between is the missed-calls job's.

``realign`` looks at the plan's open planned calls still ahead that were planned
with an older version, a batch at a time, and cancels (``call.cancelled``) those
the current version no longer asks for: ``plan_paused``, ``plan_ended`` (the plan
ended, or the call falls after its end) or ``plan_changed`` (another time, channel,
purpose, checklist or required skills, a customer no longer targeted, or beyond a
shortened horizon). Calls that still fit keep their version. The plan then records
the version it is aligned with, so a pass that dies half-way is finished by the next.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from prometheus_client import Gauge
from sqlalchemy import select, tuple_

from services.calls.calls.tables import Call
from services.calls.customers.reactions import cancel_calls_by_id
from services.calls.customers.tables import Customer
from services.calls.plans import plans, scheduling
from services.calls.plans.tables import CallPlan, CallPlanVersion
from shared.clock import utcnow
from shared.errors import Conflict, Invalid
from shared.events.contracts import CHANNELS

# Slots a pass left unplanned for want of consent, by the plan's channel: the same
# slots are skipped again every pass until consent comes, so a gauge of the last pass.
# (In multiprocess mode the last pass of any process is the one to show.)
CONSENT_REFUSED = Gauge(
    "rapport_calls_consent_refused_slots",
    "Calls the last extend-schedules pass did not plan for want of consent",
    ["service", "channel"],
    multiprocess_mode="mostrecent",
)
BATCH = 1000
# An edit's request checks this many batches itself; the job finishes a larger plan.
REQUEST_BATCHES = 20
# What a call takes from its plan's version besides its time, channel and purpose.
SHAPE = ("checklist", "required_trainings", "required_certifications")
# A slot can be an occurrence moved forward into the next open window.
WINDOW_SLACK = timedelta(days=8)


def edit_plan(uow, plan_id: str, changes: dict, author: str | None = None) -> CallPlan:
    """Edit the plan into a new version, then cancel the calls ahead that it no
    longer asks for (the first ``REQUEST_BATCHES`` batches here, any more in the
    next pass); the next extension plans what it does ask for."""
    plans.edit_plan(uow, plan_id, changes, author)
    realign(uow, plan_id, batches=REQUEST_BATCHES)
    return plans.get_plan(uow, plan_id)


def extend_schedules(uow, now: datetime | None = None) -> dict:
    """One pass over every plan; answers what it did."""
    now = now or utcnow()
    totals = Counter()
    with uow.reader() as session:
        behind = list(
            session.scalars(select(CallPlan.id).where(CallPlan.aligned_version < CallPlan.version))
        )
        active = session.execute(
            select(CallPlan.id, CallPlan.channel)
            .where(CallPlan.status == "active")
            .order_by(CallPlan.created_at, CallPlan.id)
        ).all()
    for plan_id in behind:
        totals["cancelled"] += realign(uow, plan_id, now)
    refused = Counter()
    for plan_id, channel in active:
        totals["plans"] += 1
        try:
            counts = scheduling.schedule_plan(uow, plan_id, now=now)
        except Conflict:
            continue  # paused or ended since the list was read
        except Invalid:
            totals["too_dense"] += 1  # more calls per customer than a run plans
            continue
        totals.update(counts)
        refused[channel] += counts["no_consent"]
    for channel in CHANNELS:
        CONSENT_REFUSED.labels("calls", channel).set(refused[channel])
    names = ("plans", *scheduling.COUNTS, "cancelled", "too_dense")
    return {name: totals[name] for name in names}


def realign(uow, plan_id: str, now: datetime | None = None, batches: int | None = None) -> int:
    """Cancel the calls ahead that the plan's current version no longer asks for
    (in at most ``batches`` transactions, if given); answers how many."""
    now = now or utcnow()
    plan = plans.get_plan(uow, plan_id)
    if plan.aligned_version >= plan.version:
        return 0
    shapes, cancelled, after = {}, 0, (now, "")
    while batches is None or batches > 0:
        batches = None if batches is None else batches - 1
        with uow() as work:
            locked = work.session.get(CallPlan, plan_id, with_for_update=True)
            if locked.version != plan.version:
                return cancelled  # edited again meanwhile: that edit realigns
            calls = list(work.session.scalars(_ahead(plan, after).with_for_update()))
            if not calls:
                locked.aligned_version = plan.version
                return cancelled
            unfit = _unfit(work.session, plan, calls, shapes, now)
            for call in calls:
                if call.id in unfit:
                    cancel_calls_by_id(work, call, unfit[call.id])
            cancelled += len(unfit)
            after = (calls[-1].due_at, calls[-1].id)
    return cancelled  # not all checked: the plan stays behind for the next pass


def _ahead(plan: CallPlan, after: tuple[datetime, str]):
    return (
        select(Call)
        .where(
            Call.plan_id == plan.id,
            Call.status == "scheduled",
            Call.kind == "planned",
            Call.plan_version < plan.version,
            tuple_(Call.due_at, Call.id) > after,
        )
        .order_by(Call.due_at, Call.id)
        .limit(BATCH)
    )


def _unfit(
    session, plan: CallPlan, calls: list[Call], shapes: dict, now: datetime
) -> dict[str, str]:
    """The batch's calls the plan no longer asks for, and why."""
    if plan.status != "active":
        return {call.id: f"plan_{plan.status}" for call in calls}
    dues = {
        due
        for due, _ in scheduling.due_slots(
            plan, calls[0].due_at - WINDOW_SLACK, calls[-1].due_at, limit=10_000_000
        )
    }
    segments = dict(
        session.execute(
            select(Customer.customer_id, Customer.segment).where(
                Customer.customer_id.in_({call.customer_id for call in calls})
            )
        ).all()
    )
    horizon = now + timedelta(days=plan.horizon_days)
    found = {}
    for call in calls:
        if plan.ends_at is not None and call.due_at > plan.ends_at:
            found[call.id] = "plan_ended"
        elif (
            call.due_at not in dues
            or call.due_at > horizon
            or (call.channel, call.purpose) != (plan.channel, plan.purpose)
            or _shape(session, plan.id, call.plan_version, shapes) != _current_shape(plan)
            or not (
                segments.get(call.customer_id) in plan.segments
                or call.customer_id in plan.customer_ids
            )
        ):
            found[call.id] = "plan_changed"
    return found


def _current_shape(plan: CallPlan) -> tuple:
    return tuple(getattr(plan, name) for name in SHAPE)


def _shape(session, plan_id: str, version: int | None, shapes: dict) -> tuple | None:
    if version not in shapes:
        found = session.get(CallPlanVersion, (plan_id, version)) if version else None
        shapes[version] = tuple(found.snapshot.get(name) for name in SHAPE) if found else None
    return shapes[version]
