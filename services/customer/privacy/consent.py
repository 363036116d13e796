"""Consent for direct marketing per customer × channel × purpose (PDPO Part 6A).

The record is append-only; the newest entry of a pair is its current state. A
withdrawal is announced at once as ``customer.opted_out`` beside
``customer.consent_changed``, in the same transaction as the record itself."""

from __future__ import annotations

from sqlalchemy import select

from services.customer.privacy.tables import Consent
from services.customer.profiles.optouts import opted_out
from services.customer.profiles.profiles import live
from services.customer.profiles.tables import Customer
from services.customer.tables import new_id
from shared.clock import utcnow
from shared.errors import NotFound


def record(uow, customer_id: str, data: dict, actor: str) -> Consent:
    with uow() as work:
        customer = live(work.session, customer_id)
        return add(work, customer.id, data, actor)


def add(work, customer_id: str, data: dict, actor: str) -> Consent:
    now = utcnow()
    entry = Consent(
        id=new_id(),
        customer_id=customer_id,
        actor=actor,
        recorded_at=now,
        channel=data["channel"],
        purpose=data["purpose"],
        status=data["status"],
        source=data["source"],
        notice_version=data.get("notice_version"),
    )
    work.session.add(entry)
    work.emit(
        "customer.consent_changed",
        {
            "customer_id": customer_id,
            "channel": entry.channel,
            "purpose": entry.purpose,
            "status": entry.status,
            "source": entry.source,
            "notice_version": entry.notice_version,
            "changed_at": now,
        },
    )
    if entry.status == "withdrawn":
        opted_out(
            work,
            customer_id,
            now,
            reason="consent_withdrawn",
            channel=entry.channel,
            purpose=entry.purpose,
        )
    return entry


def current(session, customer_id: str) -> list[Consent]:
    """The newest entry of every channel × purpose pair."""
    latest: dict[tuple[str, str], Consent] = {}
    for entry in session.scalars(
        select(Consent)
        .where(Consent.customer_id == customer_id)
        .order_by(Consent.recorded_at, Consent.id)
    ):
        latest[(entry.channel, entry.purpose)] = entry
    return sorted(latest.values(), key=lambda e: (e.channel, e.purpose))


def overview(uow, customer_id: str) -> dict:
    with uow.reader() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id}")
        history = list(
            session.scalars(
                select(Consent)
                .where(Consent.customer_id == customer_id)
                .order_by(Consent.recorded_at.desc(), Consent.id.desc())
            )
        )
        return {
            "customer_id": customer_id,
            "do_not_call": customer.do_not_call,
            "opt_out_notice_at": customer.opt_out_notice_at,
            "current": current(session, customer_id),
            "history": history,
        }
