"""Customer use cases: each opens one unit of work and emits its events in it."""
from __future__ import annotations

from sqlalchemy import select, tuple_

from services.customer.models import Activity, Customer, new_id
from shared.errors import NotFound
from shared.events import Event
from shared.messaging.tables import utcnow
from shared.messaging.unit_of_work import UnitOfWork
from shared.web.pagination import decode_time_cursor, page


def register_customer(uow, data: dict) -> Customer:
    with uow() as work:
        now = utcnow()
        customer = Customer(**data, created_at=now, updated_at=now, version=1,
                            calls_completed=0, lifecycle_status="active")
        work.session.add(customer)
        work.session.flush()
        work.emit("customer.registered", {
            "customer_id": customer.id, "name": customer.name, "phone": customer.phone,
            "segment": customer.segment, "preferred_language": customer.preferred_language,
            "lifecycle_status": customer.lifecycle_status, "registered_at": now,
        })
    return customer


def get_customer(uow, customer_id: str) -> Customer:
    with uow.reader() as session:
        customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id}")
    return customer


def list_customers(uow, segment: str | None, limit: int, cursor: str | None) -> dict:
    query = select(Customer).order_by(Customer.created_at, Customer.id).limit(limit + 1)
    if segment:
        query = query.where(Customer.segment == segment)
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(Customer.created_at, Customer.id) > after)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda c: (c.created_at.isoformat(), c.id))


def list_activities(uow, customer_id: str, limit: int, cursor: str | None) -> dict:
    get_customer(uow, customer_id)
    query = (select(Activity).where(Activity.customer_id == customer_id)
             .order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(limit + 1))
    before = decode_time_cursor(cursor)
    if before:
        query = query.where(tuple_(Activity.occurred_at, Activity.id) < before)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda a: (a.occurred_at.isoformat(), a.id))


def record_completed_call(work: UnitOfWork, event: Event) -> None:
    """Relationship state and timeline follow every completed call."""
    call = event.payload
    with work.session.no_autoflush:  # pending timeline rows cannot change this look-up
        customer = work.session.get(Customer, call["customer_id"])
    if customer is None:
        raise NotFound(f"call {call['call_id']} is for unknown customer {call['customer_id']}")
    when = call["completed_at"]
    customer.calls_completed += 1
    if customer.last_contacted_at is None or when >= customer.last_contacted_at:
        customer.last_contacted_at = when
        if call["satisfaction"] is not None:
            customer.satisfaction = call["satisfaction"]
        if call["propensity"] is not None:
            customer.propensity = call["propensity"]
    work.add_row(Activity, {
        "id": new_id(), "customer_id": customer.id, "kind": "call", "occurred_at": when,
        "source_event_id": event.event_id,
        "summary": {k: call[k] for k in ("call_id", "outcome", "channel", "satisfaction",
                                         "propensity", "duration_seconds", "notes")}})
