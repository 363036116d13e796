"""PDPO erasure in reporting: on ``customer.erased`` the customer's personal data is
scrubbed from the event log (names, phone numbers, e-mail, free-text notes, referral
details, field changes) and from the customer dimension.

This is the one exception to the log being append-only: the events stay, with their
ids, times and every figure reports use; only the personal fields are blanked, with
the same placeholder the live models get, so a rebuild still equals the live models.
"""
from __future__ import annotations

import json

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.reporting import event_log
from services.reporting.models import CustomerDim, EventLog

ERASED = "[erased]"
BLANK = {"name": ERASED, "phone": None, "email": None, "notes": None, "contact_point": None,
         "referrals": [], "changes": {}}


def scrub(payload: dict) -> dict:
    return {key: (BLANK[key] if key in BLANK and value not in (None, [], {}) else value)
            for key, value in payload.items()}


def erase(session: Session, customer_id: str) -> int:
    """Blank the personal fields of every logged event about the customer."""
    event_log.write_pending(session)  # events of this window before the erasure too
    marker = json.dumps({"customer_id": customer_id}, separators=(",", ":"))[1:-1]
    rows = session.execute(select(EventLog.event_id, EventLog.payload)
                           .where(EventLog.payload.contains(marker, autoescape=True))).all()
    changed = 0
    for event_id, text in rows:
        payload = json.loads(text)
        if payload.get("customer_id") != customer_id:
            continue
        scrubbed = scrub(payload)
        if scrubbed != payload:
            session.execute(update(EventLog).where(EventLog.event_id == event_id)
                            .values(payload=json.dumps(scrubbed, separators=(",", ":"))))
            changed += 1
    row = session.get(CustomerDim, customer_id)
    if row is not None:
        row.name = ERASED
    return changed
