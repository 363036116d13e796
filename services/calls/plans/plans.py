"""Call plan use cases: define a plan, edit it into a new version, read its versions.

Every version is kept whole (``call_plan_versions``); calls record the version they
were planned with, so a checklist edited later never changes what an earlier
call had to ask.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import select, tuple_

from services.calls.bounds import cursor_integer, fits
from services.calls.plans import recurrence, windows
from services.calls.plans.tables import CallPlan, CallPlanVersion
from shared.clock import utcnow
from shared.errors import Conflict, Invalid, NotFound
from shared.web.pagination import decode_cursor, decode_time_cursor, page

# A run plans at most this many calls per customer: a horizon that gives more is refused.
MAX_CALLS_PER_CUSTOMER = 1_000
EDITABLE = (
    "name",
    "segments",
    "customer_ids",
    "channel",
    "purpose",
    "rrule",
    "timezone",
    "windows",
    "allow_holidays",
    "starts_at",
    "ends_at",
    "priority",
    "checklist",
    "required_trainings",
    "required_certifications",
    "horizon_days",
    "status",
)


def create_plan(uow, data: dict, author: str | None = None) -> CallPlan:
    now = utcnow()
    fields = _checked(data, data["starts_at"] or now)
    with uow() as work:
        plan = CallPlan(**fields, version=1, created_at=now, updated_at=now)
        work.session.add(plan)
        work.session.flush()
        work.session.add(_version(plan, now, author))
    return plan


def edit_plan(uow, plan_id: str, changes: dict, author: str | None = None) -> CallPlan:
    """Apply ``changes`` as a new version; calls already planned keep theirs (the
    rolling schedule then cancels those ahead that no longer fit)."""
    with uow() as work:
        plan = work.session.get(CallPlan, plan_id, with_for_update=True)
        if plan is None:
            raise NotFound(f"no call plan {plan_id}")
        if plan.status == "ended" and changes.get("status", "ended") != "ended":
            raise Conflict("an ended call plan cannot be resumed; define a new plan")
        merged = {name: getattr(plan, name) for name in EDITABLE}
        merged.update(changes)
        fields = _checked(merged, merged["starts_at"])
        if all(getattr(plan, k) == v for k, v in fields.items()):
            return plan  # nothing changed: no new version
        now = utcnow()
        for name, value in fields.items():
            setattr(plan, name, value)
        plan.version += 1
        plan.updated_at = now
        work.session.add(_version(plan, now, author))
    return plan


def _checked(data: dict, starts_at) -> dict:
    """The plan's stored fields, or Invalid if the rule never occurs or its
    windows never open."""
    segments = list(dict.fromkeys(data.get("segments") or []))
    starts_at = starts_at.astimezone(UTC).replace(second=0, microsecond=0)
    ends_at = data["ends_at"].astimezone(UTC) if data.get("ends_at") else None
    if ends_at is not None and ends_at <= starts_at:
        raise Invalid(
            "the plan ends before it starts", errors={"ends_at": ["Must be after starts_at."]}
        )
    rule = recurrence.normalise(data["rrule"])
    first = recurrence.first(rule, data["timezone"], starts_at)
    if first is None or (ends_at and first > ends_at):
        raise Invalid(
            "the recurrence rule never occurs",
            errors={"rrule": ["The rule has no occurrence from starts_at on."]},
        )
    try:
        windows.place(first, data["timezone"], data["windows"], data["allow_holidays"])
    except windows.NeverOpens as exc:
        raise Invalid("the calling windows never open", errors={"windows": [str(exc)]}) from None
    horizon = data.get("horizon_days") or 30
    try:
        recurrence.occurrences(
            rule,
            data["timezone"],
            starts_at,
            first,
            first + timedelta(days=horizon),
            MAX_CALLS_PER_CUSTOMER,
        )
    except recurrence.TooManyOccurrences:
        why = f"The rule gives more than {MAX_CALLS_PER_CUSTOMER} calls over it; shorten it."
        raise Invalid(
            "the horizon gives too many calls per customer", errors={"horizon_days": [why]}
        ) from None
    return {
        **{name: data.get(name) for name in EDITABLE},
        "segments": segments,
        "horizon_days": horizon,
        "status": data.get("status") or "active",
        "segment": segments[0] if segments else None,
        "rrule": rule,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "customer_ids": list(dict.fromkeys(data.get("customer_ids") or [])),
    }


def snapshot(plan: CallPlan) -> dict:
    values = {name: getattr(plan, name) for name in EDITABLE}
    for name in ("starts_at", "ends_at"):
        values[name] = values[name].isoformat() if values[name] else None
    return {**values, "id": plan.id, "version": plan.version}


def _version(plan: CallPlan, now, author: str | None) -> CallPlanVersion:
    return CallPlanVersion(
        plan_id=plan.id,
        version=plan.version,
        snapshot=snapshot(plan),
        created_at=now,
        created_by=author,
    )


def get_plan(uow, plan_id: str) -> CallPlan:
    with uow.reader() as session:
        plan = session.get(CallPlan, plan_id)
    if plan is None:
        raise NotFound(f"no call plan {plan_id}")
    return plan


def list_plans(uow, limit: int, cursor: str | None) -> dict:
    query = select(CallPlan).order_by(CallPlan.created_at, CallPlan.id).limit(limit + 1)
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(CallPlan.created_at, CallPlan.id) > after)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda p: (p.created_at.isoformat(), p.id))


def get_version(uow, plan_id: str, version: int) -> CallPlanVersion:
    found = None
    if fits(version):
        with uow.reader() as session:
            found = session.get(CallPlanVersion, (plan_id, version))
    if found is None:
        raise NotFound(f"no version {version} of call plan {plan_id}")
    return found


def list_versions(uow, plan_id: str, limit: int, cursor: str | None) -> dict:
    get_plan(uow, plan_id)
    query = (
        select(CallPlanVersion)
        .where(CallPlanVersion.plan_id == plan_id)
        .order_by(CallPlanVersion.version)
        .limit(limit + 1)
    )
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(CallPlanVersion.version > cursor_integer(after[0]))
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda v: (v.version,))
