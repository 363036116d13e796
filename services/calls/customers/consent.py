"""The consent gate (PDPO Part 6A), over the local consent projection.

A call for a channel and purpose needs the customer's consent for that channel and
purpose, given after any withdrawal or opt-out that covers it. ``service`` calls
(account servicing, not direct marketing) need no consent, but an opt-out or a
do-not-call covering them still stops them. ``*`` in a stored row covers every
channel or purpose.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.calls.customers.tables import Consent

ANY = "*"
# Purposes that are not direct marketing: no consent needed, opt-outs still honoured.
NOT_MARKETING = ("service",)


def allowed(session: Session, customer_ids: list[str], channel: str, purpose: str) -> set[str]:
    """Those of ``customer_ids`` that may be called on ``channel`` for ``purpose``."""
    granted: dict[str, datetime] = {}
    withdrawn: dict[str, datetime] = {}
    for row in _rows(session, customer_ids, channel, purpose):
        into = granted if row.status == "granted" else withdrawn
        if row.customer_id not in into or into[row.customer_id] < row.changed_at:
            into[row.customer_id] = row.changed_at
    needs_consent = purpose not in NOT_MARKETING
    ok = set()
    for customer_id in customer_ids:
        grant, stop = granted.get(customer_id), withdrawn.get(customer_id)
        if stop is not None and (grant is None or grant <= stop):
            continue
        if needs_consent and grant is None:
            continue
        ok.add(customer_id)
    return ok


def _rows(session: Session, customer_ids: list[str], channel: str, purpose: str):
    query = select(Consent).where(
        Consent.channel.in_((channel, ANY)), Consent.purpose.in_((purpose, ANY))
    )
    if len(customer_ids) > 500:
        # A chunk of a sorted run: one range scan instead of a huge IN list.
        query = query.where(Consent.customer_id.between(min(customer_ids), max(customer_ids)))
    else:
        query = query.where(Consent.customer_id.in_(customer_ids))
    return session.scalars(query)


def record(
    session: Session,
    customer_id: str,
    channel: str | None,
    purpose: str | None,
    status: str,
    at: datetime,
) -> bool:
    """Apply a consent change; False if a newer change for the same key is stored."""
    key = (customer_id, channel or ANY, purpose or ANY)
    row = session.get(Consent, key)
    if row is None:
        session.add(
            Consent(
                customer_id=key[0], channel=key[1], purpose=key[2], status=status, changed_at=at
            )
        )
        return True
    if row.changed_at > at:
        return False
    row.status, row.changed_at = status, at
    return True
