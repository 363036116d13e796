"""Erasure in the event stores every service keeps (its outbox, reporting's event
log): the personal fields of an event about an erased customer are blanked; its id,
time, routing and every figure stay, so what was derived from it is derived again.

An event is about the customer when its ``customer_id`` is theirs; an event about
someone else that names them in free text (a quality finding's ``detail`` listing the
customers sharing a phone) loses that text.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, update

ERASED = "[erased]"
# The placeholder each personal field gets; the name keeps a value (contracts require one).
BLANK: dict[str, Any] = {
    "name": ERASED,
    "phone": None,
    "email": None,
    "address": None,
    "notes": None,
    "contact_point": None,
    "referrals": [],
    "detail": None,
    "answers": None,
    "confirmed_fields": None,
    "title": None,
    "lost_reason": None,
    "external_ref": None,
}
# Profile fields whose old and new values a customer.updated event carries in ``changes``.
PERSONAL = (
    "name",
    "phone",
    "email",
    "address",
    "date_of_birth",
    "external_ref",
    "tags",
    "contact_points",
    "notes",
)


def scrub(payload: dict, customer_ids) -> dict:
    """The payload without the personal data of ``customer_ids``."""
    if payload.get("customer_id") not in customer_ids:
        detail = payload.get("detail")
        if isinstance(detail, str) and any(c in detail for c in customer_ids):
            return {**payload, "detail": None}
        return payload
    out = {
        key: (BLANK[key] if key in BLANK and value not in (None, [], {}) else value)
        for key, value in payload.items()
    }
    if isinstance(out.get("changes"), dict):
        out["changes"] = {
            key: ({"old": None, "new": None} if key in PERSONAL else change)
            for key, change in out["changes"].items()
        }
    return out


def mentioning(session, column, customer_id: str):
    """Rows whose text ``column`` holds the customer id anywhere (ids are UUIDs, so a
    match is a mention); the caller parses and checks each."""
    return session.execute(
        select(column.table.primary_key.columns[0], column).where(
            column.contains(customer_id, autoescape=True)
        )
    ).all()


def scrub_outbox(session, model, customer_ids) -> int:
    """Blank the erased customers' data in every outbox row, sent or pending (a pending
    one is then published without it). Answers how many rows changed."""
    ids, changed = set(customer_ids), 0
    seen = set()
    for customer_id in ids:
        for row_id, body in mentioning(session, model.body, customer_id):
            if row_id in seen:
                continue
            seen.add(row_id)
            envelope = json.loads(body)
            payload = envelope.get("payload") or {}
            scrubbed = scrub(payload, ids)
            if scrubbed != payload:
                envelope["payload"] = scrubbed
                session.execute(
                    update(model)
                    .where(model.id == row_id)
                    .values(body=json.dumps(envelope, separators=(",", ":"), ensure_ascii=False))
                )
                changed += 1
    return changed
