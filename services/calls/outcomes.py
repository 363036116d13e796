"""Recording a call's outcome, once, and announcing it as ``call.completed``;
one at a time, or many in one request with an answer per item."""
from __future__ import annotations

from datetime import timezone

from marshmallow import ValidationError
from sqlalchemy import select

from services.calls.models import Call, Customer
from services.calls.schemas import BulkOutcomeItem
from shared.errors import AppError, Conflict, NotFound
from shared.messaging.tables import utcnow
from shared.messaging.unit_of_work import UnitOfWork

FINDINGS = ("outcome", "satisfaction", "propensity", "duration_seconds", "notes")


def record_outcome(uow, call_id: str, data: dict, agent_id: str) -> tuple[Call, bool]:
    """Record the outcome; ``(call, False)`` if this same outcome was already recorded."""
    with uow() as work:
        call = work.session.get(Call, call_id, with_for_update=True)
        return call, _apply(work, call, call_id, data, agent_id)


def _apply(work: UnitOfWork, call: Call | None, call_id: str, data: dict,
           agent_id: str) -> bool:
    """Complete ``call`` with ``data``; False if this same outcome was already recorded."""
    if call is None:
        raise NotFound(f"no call {call_id}")
    if call.status == "cancelled":
        raise Conflict(f"call {call_id} was cancelled; it takes no outcome")
    if call.status == "completed":
        if _same(call, data):
            return False
        raise Conflict(f"call {call_id} already has the outcome '{call.outcome}' of "
                       f"{call.completed_at.isoformat()}; an outcome is recorded once")
    _complete(call, data, agent_id)
    work.emit("call.completed", _completed_payload(work, call))
    return True


def record_outcomes(uow, items: list, agent_id: str) -> dict:
    """Record many outcomes in one transaction, each validated and judged on its own.

    Answers one result per item, in order: ``created`` (201), ``unchanged`` (200: the
    same outcome was already recorded) or ``rejected`` with the status and reasons a
    single request would have had. Rejected items change nothing."""
    schema = BulkOutcomeItem()
    loaded, results = {}, [None] * len(items)
    for index, item in enumerate(items):
        try:
            loaded[index] = schema.load(item)
        except ValidationError as exc:
            results[index] = _rejected(index, item, 422, "validation-error", errors=exc.messages)
    with uow() as work:
        ids = {data["call_id"] for data in loaded.values()}
        calls = {c.id: c for c in work.session.scalars(
            select(Call).where(Call.id.in_(ids)).with_for_update())}
        # Load their customers now, held here so the session's (weak) identity map
        # keeps them: then no per-item look-up goes to the database and flushes.
        customers = work.session.scalars(select(Customer).where(  # noqa: F841
            Customer.customer_id.in_({c.customer_id for c in calls.values()}))).all()
        for index, data in loaded.items():
            outcome = {k: v for k, v in data.items() if k != "call_id"}
            try:
                created = _apply(work, calls.get(data["call_id"]), data["call_id"], outcome,
                                 agent_id)
            except AppError as exc:
                results[index] = _rejected(index, data, exc.status, exc.slug, detail=exc.detail)
                continue
            results[index] = {"index": index, "call_id": data["call_id"],
                              "result": "created" if created else "unchanged",
                              "status": 201 if created else 200}
    counts = {name: sum(r["result"] == name for r in results)
              for name in ("created", "unchanged", "rejected")}
    return {"results": results, **counts}


def _rejected(index: int, item, status: int, slug: str, **why) -> dict:
    call_id = item.get("call_id") if isinstance(item, dict) else None
    return {"index": index, "call_id": call_id if isinstance(call_id, str) else None,
            "result": "rejected", "status": status, "problem": slug, **why}


def _same(call: Call, data: dict) -> bool:
    """A retry of the request that recorded the outcome (a missing time means "now")."""
    return (all(getattr(call, name) == data[name] for name in FINDINGS)
            and data["completed_at"] in (None, call.completed_at))


def _complete(call: Call, data: dict, agent_id: str) -> None:
    for name in FINDINGS:
        setattr(call, name, data[name])
    call.completed_at = (data["completed_at"] or utcnow()).astimezone(timezone.utc)
    call.completed_by = agent_id
    call.status = "completed"


def _completed_payload(work: UnitOfWork, call: Call) -> dict:
    customer = work.session.get(Customer, call.customer_id)  # identity map: once a batch
    return {
        "call_id": call.id, "plan_id": call.plan_id, "customer_id": call.customer_id,
        "channel": call.channel, "outcome": call.outcome, "completed_at": call.completed_at,
        "duration_seconds": call.duration_seconds, "satisfaction": call.satisfaction,
        "propensity": call.propensity, "notes": call.notes,
        "segment": customer.segment if customer else None,
        "agent_id": call.completed_by, "agent_kind": "staff", "partner_id": None,
        # Costing (staff minutes x rate) arrives with agents and their rates.
        "cost": None, "currency": "HKD",
    }
