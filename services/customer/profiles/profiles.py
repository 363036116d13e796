"""Profile use cases: register and change. Every change of a profile is written
as a new append-only version in the same transaction as the change and its event
(``versions``); nothing is deleted (archiving is a change of status). Reading
profiles is in ``reads``."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.customer.profiles import duplicates, optouts
from services.customer.profiles.tables import ContactPoint, Customer
from services.customer.profiles.versions import (
    completeness,
    contact_points,
    snapshot,
    write_version,
)
from services.customer.segments.tables import Segment
from services.customer.tables import new_id
from shared.clock import utcnow
from shared.errors import Conflict, Invalid, NotFound, PreconditionFailed
from shared.web import idempotency


def load_segment(session, code: str) -> Segment:
    segment = session.get(Segment, code)
    if segment is None:
        raise Invalid(f"there is no segment {code!r}", errors={"segment": ["Unknown segment."]})
    return segment


def apply_contact_points(
    session, customer: Customer, points: list[dict], new: bool = False
) -> None:
    """Replace the customer's contact points, keeping what is known of kept ones
    (``new``: a customer added in this transaction, which has none to read yet)."""
    existing = {} if new else {(p.kind, p.value): p for p in contact_points(session, customer.id)}
    wanted = {(p["kind"], p["value"]): p for p in points}
    for key, point in existing.items():
        if key not in wanted:
            session.delete(point)
    for key, point in wanted.items():
        row = existing.get(key)
        if row is None:
            row = ContactPoint(
                id=new_id(),
                customer_id=customer.id,
                kind=key[0],
                value=key[1],
                status="valid",
                do_not_contact=False,
            )
            session.add(row)
        if point.get("do_not_contact") is not None:
            row.do_not_contact = point["do_not_contact"]
        if point.get("status") is not None:
            row.status = point["status"]
    customer.phone = next((p["value"] for p in points if p["kind"] == "phone"), None)
    customer.email = next((p["value"] for p in points if p["kind"] == "email"), None)


def register_customer(uow, data: dict, actor: str, source: str = "api") -> dict:
    data = dict(data)
    confirm = data.pop("confirm_duplicate", False)
    points = [p for kind in data.pop("contact_points").values() for p in kind]
    with ref_raced(uow, data.get("external_ref")), uow() as work:
        load_segment(work.session, data["segment"])
        refuse_taken_ref(work.session, data.get("external_ref"))
        if not confirm:
            found = duplicates.candidates_for(
                work.session, data["name"], data.get("address"), points
            )
            if found:
                raise Conflict(
                    "this looks like a customer already on file; send "
                    "confirm_duplicate: true to register it anyway",
                    candidates=found,
                )
        customer = create(work, data, points, actor, source, utcnow())
        idempotency.concerns(customer.id)
        return view(
            customer,
            contact_points(work.session, customer.id),
            work.session.get(Segment, customer.segment),
        )


def create(work, data: dict, points: list[dict], actor: str, source: str, now) -> Customer:
    customer = Customer(
        id=new_id(),
        **data,
        created_at=now,
        updated_at=now,
        version=1,
        calls_completed=0,
        source=source,
    )
    customer.lifecycle_status = data.get("lifecycle_status") or "active"
    customer.kind = data.get("kind") or "person"
    customer.tags = data.get("tags") or []
    customer.do_not_call = bool(data.get("do_not_call"))
    work.session.add(customer)
    work.session.flush()
    apply_contact_points(work.session, customer, points, new=True)
    write_version(work, customer, {}, actor, source, "registered", now)
    work.emit(
        "customer.registered",
        {
            "customer_id": customer.id,
            "name": customer.name,
            "phone": customer.phone,
            "segment": customer.segment,
            "preferred_language": customer.preferred_language,
            "lifecycle_status": customer.lifecycle_status,
            "registered_at": now,
            "kind": customer.kind,
            "owner_team": customer.owner_team,
            "source": source,
            "referred_by_call_id": customer.referred_by_call_id,
            **call_context(customer),
        },
    )
    return customer


def update_customer(uow, customer_id: str, data: dict, actor: str, if_match: int | None) -> dict:
    data = dict(data)
    reason = data.pop("reason", None)
    given = data.pop("contact_points", {})
    with ref_raced(uow, data.get("external_ref"), customer_id), uow() as work:
        # Locked: the consumer changes the same row (counters, do_not_call, version).
        customer = live(work.session, customer_id, lock=True)
        if if_match is not None and if_match != customer.version:
            raise PreconditionFailed(
                f"the profile is at version {customer.version}, "
                f"not {if_match}; read it again and retry"
            )
        if "segment" in data:
            load_segment(work.session, data["segment"])
        if data.get("external_ref") != customer.external_ref:
            refuse_taken_ref(work.session, data.get("external_ref"))
        points = replaced_points(work.session, customer.id, given)
        change(work, customer, data, points, actor, "api", reason)
        return view(
            customer,
            contact_points(work.session, customer.id),
            work.session.get(Segment, customer.segment),
        )


def refuse_taken_ref(session, external_ref: str | None, own_id: str | None = None) -> None:
    """409 if another customer than ``own_id`` has ``external_ref`` (it identifies one
    customer in the company's other systems: the import matches on it)."""
    if not external_ref:
        return
    holder = session.scalar(select(Customer.id).where(Customer.external_ref == external_ref))
    if holder is not None and holder != own_id:
        raise Conflict(f"a customer with external reference {external_ref!r} exists")


@contextmanager
def ref_raced(uow, external_ref: str | None, own_id: str | None = None):
    """The 409 of ``refuse_taken_ref`` for a writer that lost a race to it: another
    transaction took ``external_ref`` between the check and the commit, and the unique
    constraint refused this one (PostgreSQL runs such writers side by side; SQLite
    serialises them). The transaction has rolled back; any other integrity error, or
    one with the reference still free, goes on as it was."""
    try:
        yield
    except IntegrityError:
        if external_ref:
            with uow.reader() as session:
                refuse_taken_ref(session, external_ref, own_id)
        raise


def replaced_points(session, customer_id: str, given: dict | None) -> list[dict] | None:
    """The contact points after an update: a kind sent replaces that kind, the other
    kind stays as it is; None when none were sent (the points are left alone)."""
    if not given:
        return None
    kept = [
        {"kind": p.kind, "value": p.value, "do_not_contact": p.do_not_contact, "status": p.status}
        for p in contact_points(session, customer_id)
        if p.kind not in given
    ]
    return kept + [p for kind in given.values() for p in kind]


def change(
    work,
    customer: Customer,
    data: dict,
    points: list[dict] | None,
    actor: str,
    source: str,
    reason: str | None,
) -> dict:
    """Apply a change to a live profile: version, events, opt-outs it implies."""
    now = utcnow()
    before = snapshot(customer, contact_points(work.session, customer.id))
    for field, value in data.items():
        setattr(customer, field, value)
    if points is not None:
        apply_contact_points(work.session, customer, points)
    changes = write_version(work, customer, before, actor, source, reason, now)
    if not changes:
        return changes
    work.emit(
        "customer.updated",
        {
            "customer_id": customer.id,
            "segment": customer.segment,
            "name": customer.name,
            "changes": changes,
            "version": customer.version,
            "updated_at": now,
            "preferred_language": customer.preferred_language,
            "lifecycle_status": customer.lifecycle_status,
            "owner_team": customer.owner_team,
            **call_context(customer),
        },
    )
    optouts.announce(work, customer, before, now)
    return changes


def call_context(customer: Customer) -> dict:
    """What a call page shows of the profile and what the workspace finds it by,
    current values (calls projects them)."""
    return {
        "email": customer.email,
        "address": customer.address,
        "relationship_score": customer.relationship_score,
        "satisfaction_trend": customer.satisfaction_trend,
        "external_ref": customer.external_ref,
    }


def live(session, customer_id: str, lock: bool = False) -> Customer:
    """A customer that can be changed: merged profiles point to their survivor;
    ``lock``: read ``FOR UPDATE``, for a change that reads what it writes."""
    customer = session.get(Customer, customer_id, with_for_update=True if lock else None)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    if customer.merged_into:
        raise Conflict(
            f"customer {customer_id} was merged into {customer.merged_into}",
            merged_into=customer.merged_into,
        )
    return customer


def view(customer: Customer, points: list[ContactPoint], segment: Segment | None) -> dict:
    """A profile as the API shows it: its fields, contact points, completeness."""
    data = {c.key: getattr(customer, c.key) for c in Customer.__table__.columns}
    data["contact_points"] = points
    data["completeness"] = completeness(
        snapshot(customer, points), segment.required_fields if segment else []
    )
    return data
