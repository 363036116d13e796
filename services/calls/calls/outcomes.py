"""Recording a call's outcome, once, and announcing it as ``call.completed``;
one at a time, or many in one request with an answer per item.

The caller decides what it may touch: an agent records on calls assigned to it (or
not yet assigned), a manager on any, a partner only on the calls it may name
(``reach``: any other is "not found", whatever the reason, where staff are told the
reason). What the outcome carries is checked against the call's plan version
(checklist) and the customer's open gaps; cost, quality flags and follow-ups are
written in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, timedelta
from decimal import Decimal
from types import SimpleNamespace

from marshmallow import ValidationError
from sqlalchemy import bindparam, select, update

from services.calls.calls import findings, followups, outcome_lookups, quality, reach
from services.calls.calls.outcome_lookups import Held, hold
from services.calls.calls.outcome_schemas import BulkOutcomeItem
from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.money import money_text
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import AppError, Conflict, Forbidden, NotFound
from shared.messaging.unit_of_work import UnitOfWork
from shared.web import idempotency, row_fields

FINDINGS = (
    "outcome",
    "satisfaction",
    "propensity",
    "duration_seconds",
    "notes",
    "answers",
    "competitor_mentions",
    "referrals",
    "opt_out_notice_given",
    "callback_at",
    "confirmed_fields",
)
UNPLANNED = ("inbound", "unplanned")
EMPTY = {
    "answers": {},
    "competitor_mentions": [],
    "referrals": [],
    "confirmed_fields": {},
    "opt_out_notice_given": False,
    "callback_at": None,
}


@dataclass
class _Batch:
    """What the items of one request share: look-ups, the agents' recent calls (for
    the quality rules), the ``call.completed`` payloads (None: emit each at once), and
    for an upload its calls as rows (``CallRow``) and those completed and not yet
    written (None: the calls are the session's objects, written at its flush)."""

    held: Held
    known: dict | None = None
    completed: list | None = None
    calls: dict | None = None
    pending: list | None = None


class CallRow(SimpleNamespace):
    """An upload's call as read: its columns as plain attributes, changed in place and
    written by ``_write_completed``. Not an ORM object: the unit of work's tracking of
    every attribute read and set cost more than the rules that read them."""


def record_outcome(uow, call_id: str, data: dict, caller: Principal) -> tuple[Call, bool]:
    """Record the outcome; ``(call, False)`` if this same outcome was already recorded."""
    with uow() as work:
        call, held = outcome_lookups.find(work.session, caller, call_id)
        if call is not None:  # its answer shows the call's notes, or to a partner
            idempotency.concerns(call.customer_id)  # the customer's name and phone
        return call, _apply(work, call, call_id, data, caller, _Batch(held))


def _apply(
    work: UnitOfWork,
    call: Call | CallRow | None,
    call_id: str,
    data: dict,
    caller: Principal,
    batch: _Batch,
) -> bool:
    """Complete ``call`` with ``data``; False if this same outcome was already recorded."""
    if call is None:
        raise NotFound(f"no call {call_id}")
    if caller.role == "agent" and call.agent_id not in (None, caller.subject):
        raise Forbidden(f"call {call_id} is assigned to another agent")
    if call.status == "cancelled":
        raise Conflict(
            f"call {call_id} was cancelled ({call.cancel_reason or 'no reason'}); "
            "it takes no outcome"
        )
    data = {**EMPTY, **data}
    if call.status == "completed":
        if _same(call, data):
            return False
        raise Conflict(
            f"call {call_id} already has the outcome '{call.outcome}' of "
            f"{call.completed_at.isoformat()}; an outcome is recorded once"
        )
    compliance = findings.check(batch.held, call, data)
    _complete(call, data, caller, compliance)
    flags = quality.review(work, call, batch.known, batch.held)
    _clear_gaps(batch.held, call)
    payload = _completed_payload(batch.held, call, flags)
    if batch.completed is None:
        work.emit("call.completed", payload)
    else:
        batch.completed.append(payload)
    if batch.pending is None:
        followups.follow_up(work, call, utcnow(), batch.held)
    else:
        batch.pending.append(call)
        _follow_up_in_upload(work, call, batch)
    return True


def _follow_up_in_upload(work: UnitOfWork, call: CallRow, batch: _Batch) -> None:
    """``follow_up`` for an upload's call. A do-not-call cancels the customer's open
    calls in the database: the calls the upload completed so far are written first
    (they are not cancelled, and later look-ups see them, as when they were flushed),
    and the upload's open calls of that customer are read back after, so that one
    cancelled here refuses its outcome later in the upload."""
    if call.outcome != "do_not_call_requested":
        followups.follow_up(work, call, utcnow(), batch.held)
        return
    _write_completed(work.session, batch.pending)
    batch.pending.clear()
    followups.follow_up(work, call, utcnow(), batch.held)
    still_open = {
        c.id: c
        for c in batch.calls.values()
        if c.customer_id == call.customer_id and c.status == "scheduled"
    }
    if still_open:
        work.session.flush()
        for call_id, status, reason in work.session.execute(
            select(Call.id, Call.status, Call.cancel_reason).where(Call.id.in_(list(still_open)))
        ):
            still_open[call_id].status, still_open[call_id].cancel_reason = status, reason


def record_outcomes(uow, items: list, caller: Principal) -> dict:
    """Record many outcomes in one transaction, each validated and judged on its own.

    Answers one result per item, in order: ``created`` (201), ``unchanged`` (200: the
    same outcome was already recorded) or ``rejected`` with the status and reasons a
    single request would have had. Rejected items change nothing."""
    loaded, results = {}, [None] * len(items)
    for index, item in enumerate(items):
        try:
            loaded[index] = load_item(item)
        except ValidationError as exc:
            results[index] = _rejected(index, item, 422, "validation-error", errors=exc.messages)
    with uow() as work:
        ids = {data["call_id"] for data in loaded.values()}
        query = select(Call.__table__).where(Call.id.in_(ids), *reach.scope(caller))
        calls = {
            row["id"]: CallRow(**row)
            for row in work.session.connection().execute(query.with_for_update()).mappings()
        }
        # What the items look up, loaded once: no per-item look-up goes to the database.
        batch = _Batch(
            hold(work.session, list(calls.values()), caller.subject),
            _recent(work.session, calls, loaded, caller),
            [],
            calls,
            [],
        )
        for index, data in loaded.items():
            outcome = {k: v for k, v in data.items() if k != "call_id"}
            try:
                # Every check comes before any change, so a rejected item wrote nothing;
                # everything an item reads is held above, so nothing needs flushing first.
                with work.session.no_autoflush:
                    created = _apply(
                        work, calls.get(data["call_id"]), data["call_id"], outcome, caller, batch
                    )
            except AppError as exc:
                results[index] = _rejected(
                    index,
                    data,
                    exc.status,
                    exc.slug,
                    detail=exc.detail,
                    **({"errors": exc.errors} if exc.errors else {}),
                )
                continue
            results[index] = {
                "index": index,
                "call_id": data["call_id"],
                "result": "created" if created else "unchanged",
                "status": 201 if created else 200,
            }
        _write_completed(work.session, batch.pending)
        # Written now, before the events the items' follow-ups emitted (written at the
        # commit): an item's own events keep their order, items' may interleave less.
        work.emit_many("call.completed", batch.completed)
    counts = {
        name: sum(r["result"] == name for r in results)
        for name in ("created", "unchanged", "rejected")
    }
    return {"results": results, **counts}


ITEM = BulkOutcomeItem()


def load_item(item) -> dict:
    """An upload's item as ``BulkOutcomeItem().load`` answers it: through the schema's
    own fields first (``row_fields``: a fifth less CPU), and through ``load``,
    with its reasons, whenever that path cannot vouch for the item."""
    loaded = row_fields.load(ITEM, item)
    return loaded if loaded is not None else ITEM.load(item)


# What completing a call changes on its row (``_complete``, and the cost).
COMPLETED = (*FINDINGS, "completed_at", "completed_by", "checklist_compliance", "status", "cost")
_C = Call.__table__.c
_COMPLETE = (
    update(Call.__table__)
    .where(_C.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}") for name in COMPLETED})
)


def _write_completed(session, done: list[CallRow]) -> None:
    """An upload's completed calls in one executemany UPDATE."""
    if not done:
        return
    session.connection().execute(
        _COMPLETE,
        [
            {"b_id": call.id, **{f"b_{name}": getattr(call, name) for name in COMPLETED}}
            for call in done
        ],
    )


def _recent(session, calls: dict, loaded: dict, caller: Principal) -> dict:
    """The agents' completed calls around the upload's times, for the quality rules."""
    items = [(calls.get(d["call_id"]), d) for d in loaded.values()]
    items = [(c, d) for c, d in items if c is not None]
    if not items:
        return {}
    agents = {c.agent_id or caller.subject for c, _ in items}
    times = [(d["completed_at"] or utcnow()).astimezone(UTC) for _, d in items]
    start = min(
        time - timedelta(seconds=d.get("duration_seconds") or 0)
        for time, (_, d) in zip(times, items, strict=True)
    )
    return quality.recent_calls(
        session, agents, min(times), max(times) + timedelta(minutes=1), start
    )


def _rejected(index: int, item, status: int, slug: str, **why) -> dict:
    call_id = item.get("call_id") if isinstance(item, dict) else None
    return {
        "index": index,
        "call_id": call_id if isinstance(call_id, str) else None,
        "result": "rejected",
        "status": status,
        "problem": slug,
        **why,
    }


def _same(call: Call | CallRow, data: dict) -> bool:
    """A retry of the request that recorded the outcome (a missing time means "now")."""
    stored = {name: getattr(call, name) for name in FINDINGS}
    stored = {
        **stored,
        **{k: v if v is not None else EMPTY[k] for k, v in stored.items() if k in EMPTY},
    }
    return all(stored[name] == data[name] for name in FINDINGS) and data["completed_at"] in (
        None,
        call.completed_at,
    )


def _complete(
    call: Call | CallRow, data: dict, caller: Principal, compliance: float | None
) -> None:
    for name in FINDINGS:
        setattr(call, name, data[name])
    call.completed_at = (data["completed_at"] or utcnow()).astimezone(UTC)
    call.completed_by = caller.subject
    call.checklist_compliance = compliance
    call.status = "completed"


def _clear_gaps(held: Held, call: Call | CallRow) -> None:
    customer = held.get(Customer, call.customer_id)
    if customer is not None and call.confirmed_fields:
        customer.gaps = [g for g in customer.gaps or [] if g not in call.confirmed_fields]


def _completed_payload(held: Held, call: Call | CallRow, flags: list[str]) -> dict:
    customer = held.get(Customer, call.customer_id)
    agent_id = call.agent_id or call.completed_by
    cost = findings.costing(held, agent_id, call.duration_seconds or 0)
    if cost["cost"] is not None:
        call.cost = cost["cost"]
        cost["cost"] = Decimal(money_text(cost["cost"]))
    return {
        "call_id": call.id,
        "plan_id": call.plan_id,
        "customer_id": call.customer_id,
        "channel": call.channel,
        "outcome": call.outcome,
        "completed_at": call.completed_at,
        "duration_seconds": call.duration_seconds,
        "satisfaction": call.satisfaction,
        "propensity": call.propensity,
        "notes": call.notes,
        "segment": customer.segment if customer else None,
        "agent_id": agent_id,
        **cost,
        "currency": "HKD",
        "purpose": call.purpose,
        "plan_version": call.plan_version,
        # An inbound or unplanned call was due at no time: it counts as done, never
        # as done on time against a plan (reporting's on-time never exceeds planned).
        "due_at": call.due_at if call.kind not in UNPLANNED else None,
        "kind": call.kind,
        "checklist_compliance": call.checklist_compliance,
        "competitor_mentions": call.competitor_mentions or [],
        "referrals": call.referrals or [],
        "opt_out_notice_given": bool(call.opt_out_notice_given),
        "callback_at": call.callback_at,
        "confirmed_fields": call.confirmed_fields or {},
        # Each rule once (the duration rule can be hit only once, but say so here).
        "quality_flags": list(dict.fromkeys(flags)),
    }
