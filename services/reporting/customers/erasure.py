"""PDPO erasure in reporting: on ``customer.erased`` the customer's personal data is
scrubbed from the event log (names, phone numbers, e-mail, free-text notes, referral
details, the personal values of field changes, findings that name them) and from the
customer dimension.

This is the one exception to the log being append-only: the events stay, with their
ids, times and every figure reports use; only the personal fields are blanked, with
the same placeholder the live models get, so a rebuild still equals the live models.
"""

from __future__ import annotations

import json

from sqlalchemy import update
from sqlalchemy.orm import Session

from services.reporting.events import event_log
from services.reporting.tables import CustomerDim, EventLog
from shared.messaging.erasure import ERASED, mentioning
from shared.messaging.erasure import scrub as scrub_payload


def scrub(payload: dict, customer_id: str) -> dict:
    return scrub_payload(payload, {customer_id})


def erase(session: Session, customer_id: str) -> int:
    """Blank the personal fields of every logged event about the customer."""
    event_log.write_pending(session)  # events of this window before the erasure too
    changed = 0
    for event_id, text in mentioning(session, EventLog.payload, customer_id):
        payload = json.loads(text)
        scrubbed = scrub(payload, customer_id)
        if scrubbed != payload:
            session.execute(
                update(EventLog)
                .where(EventLog.event_id == event_id)
                .values(payload=json.dumps(scrubbed, separators=(",", ":")))
            )
            changed += 1
    row = session.get(CustomerDim, customer_id)
    if row is not None:
        row.name = ERASED
    return changed
