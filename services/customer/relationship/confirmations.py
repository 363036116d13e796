"""Profile fields a customer confirmed on a call (``call.completed``'s
``confirmed_fields``, the gaps the calls service put on its checklist).

Each value is validated like any write of that field; the valid ones become one new
profile version with source ``call``, written by the agent, with the call as the
reason. The profile's ``incomplete`` data-quality item is resolved when no required
field is left missing (its detail follows what is still missing otherwise). A value
that does not validate, or a field no segment can require, is refused for that field
alone with a ``confirmed_value_invalid`` item, and the gaps are announced again so the
next call asks once more. A field a newer write filled in meanwhile is left as it is.
"""

from __future__ import annotations

from marshmallow import ValidationError
from sqlalchemy import select

from services.customer.profiles.profiles import change
from services.customer.profiles.schemas import CustomerPatch
from services.customer.profiles.tables import Customer
from services.customer.profiles.versions import completeness, contact_points, snapshot
from services.customer.quality import quality
from services.customer.quality.tables import QualityItem
from services.customer.segments.segments import REQUIRABLE
from services.customer.segments.tables import Segment
from shared.clock import utcnow


def apply(work, customer: Customer, call: dict) -> dict:
    """Apply the call's confirmed fields; answers what changed and what was refused."""
    confirmed = call.get("confirmed_fields") or {}
    if not confirmed or customer.lifecycle_status == "archived":
        return {"changed": [], "refused": []}
    points = contact_points(work.session, customer.id)
    empty = set(completeness(snapshot(customer, points), list(REQUIRABLE))["missing"])
    data, given, refused = {}, {}, {}
    for field, value in sorted(confirmed.items()):
        why = _problem(work.session, customer, field, value)
        if why is None and field in empty:
            loaded, why = _load(field, value)
            if why is None:
                given.update(loaded.pop("contact_points"))
                data.update(loaded)
        if why is not None:
            refused[field] = why
    actor, reason = (
        call.get("agent_id") or f"call:{call['call_id']}",
        f"confirmed on call {call['call_id']}",
    )
    changed = (
        change(work, customer, data, _points(points, given), actor, "call", reason)
        if data or given
        else {}
    )
    for field, why in refused.items():
        shown = str(confirmed[field])[:100]
        quality.flag(
            work,
            "confirmed_value_invalid",
            customer,
            f"call {call['call_id']} confirmed {field} = {shown!r}, refused: {why}",
            key=f"confirmed_value_invalid:{call['call_id']}:{field}"[:200],
        )
    _follow_gaps(work, customer, actor, reason, announce=bool(refused))
    return {"changed": sorted(changed), "refused": sorted(refused)}


def _points(points, given: dict) -> list[dict] | None:
    """The contact points after the confirmation: a confirmed kind added to the rest."""
    if not given:
        return None
    kept = [
        {"kind": p.kind, "value": p.value, "do_not_contact": p.do_not_contact, "status": p.status}
        for p in points
        if p.kind not in given
    ]
    return kept + [p for kind in given.values() for p in kind]


def _problem(session, customer: Customer, field: str, value) -> str | None:
    if field not in REQUIRABLE:
        return "not a profile field a call confirms"
    if value is None or value == "":
        return "no value was confirmed"
    if (
        field == "external_ref"
        and isinstance(value, str)
        and session.scalar(
            select(Customer.id).where(Customer.external_ref == value, Customer.id != customer.id)
        )
    ):
        return "another customer has this external reference"
    return None


def _load(field: str, value) -> tuple[dict, str | None]:
    try:
        return CustomerPatch().load({field: value}), None
    except ValidationError as error:
        messages = (
            error.messages.get(field, error.messages)
            if isinstance(error.messages, dict)
            else error.messages
        )
        return {}, "; ".join(_flat(messages))[:300]


def _flat(messages) -> list[str]:
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _flat(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in _flat(value)]
    return [str(messages)]


def _follow_gaps(work, customer: Customer, actor: str, reason: str, announce: bool) -> None:
    """Resolve the ``incomplete`` item once nothing is missing; else keep its detail
    true, and announce the gaps again when a confirmation was refused."""
    segment = work.session.get(Segment, customer.segment)
    missing = completeness(
        snapshot(customer, contact_points(work.session, customer.id)),
        segment.required_fields if segment else [],
    )["missing"]
    now = utcnow()
    item = work.session.scalar(
        select(QualityItem).where(
            QualityItem.key == f"incomplete:{customer.id}", QualityItem.status == "open"
        )
    )
    if item is not None and not missing:
        quality.resolve_item(work, item, actor, reason, now)
    elif item is not None:
        item.detail = "missing: " + ", ".join(missing)
    if announce and missing:
        work.emit(
            "customer.gaps_detected",
            {
                "customer_id": customer.id,
                "segment": customer.segment,
                "missing_fields": missing,
                "detected_at": now,
            },
        )
