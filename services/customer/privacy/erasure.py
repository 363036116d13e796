"""Erasure (PDPO): a profile past its retention period, or one whose data subject
asks, is anonymised here and ``customer.erased`` tells every other service to do
the same with its copies.

What identifies the person goes: name (its matching keys follow it), contact points,
address, date of birth, external reference, tags, the personal values in the
profile's versions, notes on its timeline, quality findings that quote its data,
the personal fields of the events about it in the outbox (sent ones keep their
payloads) and every stored idempotent answer about it (a replay is then 410 Gone).
What remains is the anonymous skeleton the figures need (the customer id, segment,
the relationship and revenue figures, the dates of the versions and activities) and
the consent record, which names no one but proves that a withdrawal was honoured.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, or_, select, update

from services.customer.imports.tables import ImportJob
from services.customer.privacy import exports
from services.customer.profiles.profiles import live
from services.customer.profiles.tables import ContactPoint, Customer, CustomerVersion
from services.customer.quality.tables import QualityItem
from services.customer.relationship.tables import Activity
from services.customer.tables import IdempotencyKey, Outbox, new_id
from shared.clock import utcnow
from shared.db import in_chunks
from shared.messaging import brokers, dead_letters
from shared.messaging.erasure import scrub_outbox
from shared.messaging.topology import BINDINGS, Names
from shared.web import idempotency

ERASED_NAME = "[erased]"
PERSONAL = ("name", "address", "date_of_birth", "external_ref", "tags", "contact_points")


def erase(uow, customer_id: str, actor: str, reason: str) -> Customer:
    with uow() as work:
        customer = live(work.session, customer_id)
        _erase(work, customer, actor, reason)
    return customer


def _erase(work, customer: Customer, actor: str, reason: str) -> None:
    now = utcnow()
    ids = [customer.id] + list(
        work.session.scalars(select(Customer.id).where(Customer.merged_into == customer.id))
    )
    exports.forget(work.session, ids)
    for person in work.session.scalars(select(Customer).where(Customer.id.in_(ids))):
        person.name = ERASED_NAME
        person.phone = person.email = person.address = person.date_of_birth = None
        person.external_ref = None
        person.tags = []
        person.lifecycle_status = "archived"
        person.updated_at = now
    work.session.execute(delete(ContactPoint).where(ContactPoint.customer_id.in_(ids)))
    for version in work.session.scalars(
        select(CustomerVersion).where(CustomerVersion.customer_id.in_(ids))
    ):
        version.snapshot = _scrub(version.snapshot)
        version.changes = {
            k: ({"old": None, "new": None} if k in PERSONAL else v)
            for k, v in version.changes.items()
        }
    for activity in work.session.scalars(
        select(Activity).where(
            Activity.customer_id.in_(ids), Activity.kind.in_(("call", "referral"))
        )
    ):
        activity.summary = {k: v for k, v in activity.summary.items() if k not in ("notes", "note")}
    _forget_elsewhere(work, ids)
    customer.version += 1
    work.add_row(
        CustomerVersion,
        {
            "id": new_id(),
            "customer_id": customer.id,
            "version": customer.version,
            "changed_at": now,
            "actor": actor,
            "source": "erasure",
            "reason": reason,
            "changes": {"erased": {"old": False, "new": True}},
            "snapshot": _scrub({"segment": customer.segment}),
        },
    )
    work.emit(
        "customer.erased", {"customer_id": customer.id, "erased_at": now, "merged_ids": ids[1:]}
    )


def _forget_elsewhere(work, ids: list[str]) -> None:
    """What else held the person: findings quoting their phone or values (a finding
    about a phone shared with others names them too), the outbox, stored answers,
    uploaded import files."""
    session = work.session
    for customer_id in ids:
        session.execute(
            update(QualityItem)
            .where(
                or_(
                    QualityItem.customer_id == customer_id,
                    QualityItem.detail.contains(customer_id, autoescape=True),
                )
            )
            .values(detail=ERASED_NAME, resolution=None)
        )
    scrub_outbox(session, Outbox, ids)
    idempotency.forget(session, IdempotencyKey, ids)
    # Uploads of ended imports left on disk (their jobs remove them now).
    for path in session.scalars(
        select(ImportJob.path).where(ImportJob.status.in_(("done", "failed")))
    ):
        Path(path).unlink(missing_ok=True)


def _scrub(snapshot: dict) -> dict:
    return {
        **snapshot,
        "name": ERASED_NAME,
        "address": None,
        "date_of_birth": None,
        "external_ref": None,
        "tags": [],
        "contact_points": [],
    }


def expired(uow, retention_days: int, now=None) -> list[str]:
    """Live profiles neither updated nor contacted for ``retention_days``."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    with uow.reader() as session:
        return list(
            session.scalars(
                select(Customer.id).where(
                    Customer.merged_into.is_(None),
                    Customer.name != ERASED_NAME,
                    Customer.updated_at < cutoff,
                    or_(Customer.last_contacted_at.is_(None), Customer.last_contacted_at < cutoff),
                )
            )
        )


def erase_expired(uow, retention_days: int, actor: str = "retention", now=None) -> int:
    erased = 0
    for customer_id in expired(uow, retention_days, now):
        erase(uow, customer_id, actor, f"past the retention period of {retention_days} days")
        erased += 1
    return erased


def erased_among(uow, ids) -> set[str]:
    """Which of ``ids`` are customers erased here (or merged into one erased)."""
    with uow.reader() as session:
        rows = [
            row
            for chunk in in_chunks(sorted(ids))
            for row in session.execute(
                select(Customer.id, Customer.merged_into).where(Customer.id.in_(chunk))
            )
        ]
        owners = sorted({into or cid for cid, into in rows})
        gone = {
            cid
            for chunk in in_chunks(owners)
            for cid in session.scalars(
                select(CustomerVersion.customer_id)
                .where(CustomerVersion.customer_id.in_(chunk), CustomerVersion.source == "erasure")
                .distinct()
            )
        }
    return {cid for cid, into in rows if (into or cid) in gone}


def scrub_dead_letters(uow, amqp_url: str, namespace: str) -> int:
    """Blank the erased customers' data in every service's dead-letter queue, which
    holds events the consumers could not apply until an operator replays them (the
    outbox and event stores are scrubbed at the erasure itself). Run periodically, so
    a message dead-lettered after the erasure (it was being retried) goes too, and an
    erasure made while the broker was away is caught up. Answers how many changed."""
    names = Names(namespace)
    with brokers.connect(amqp_url) as connection:
        return sum(
            dead_letters.scrub(connection, names, service, lambda ids: erased_among(uow, ids))
            for service in BINDINGS
        )
