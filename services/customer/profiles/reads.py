"""Reading profiles: one profile as it is now or as it was at a time, the list of
live profiles, and a profile's version history, including the profiles merged into
it. Nothing here writes; the changes are in ``profiles``. The timeline is read in
``relationship.timeline``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, tuple_

from services.customer.profiles import search
from services.customer.profiles.tables import ContactPoint, Customer, CustomerVersion
from services.customer.profiles.versions import completeness
from services.customer.segments.tables import Segment
from shared.errors import Invalid, NotFound
from shared.web.pagination import decode_cursor, decode_time_cursor, page

_C, _P, _S = Customer.__table__, ContactPoint.__table__, Segment.__table__
# Built once, Core only (no ORM compile step), the id bound at execution.
_PROFILE = (
    select(
        _C,
        _P.c.kind.label("cp_kind"),
        _P.c.value.label("cp_value"),
        _P.c.do_not_contact.label("cp_do_not_contact"),
        _P.c.status.label("cp_status"),
        _S.c.required_fields.label("segment_required"),
    )
    .select_from(
        _C.outerjoin(_P, _P.c.customer_id == _C.c.id).outerjoin(_S, _S.c.code == _C.c.segment)
    )
    .where(_C.c.id == bindparam("customer_id"))
    .order_by(_P.c.kind, _P.c.value)
)
_JOINED = ("cp_kind", "cp_value", "cp_do_not_contact", "cp_status")


def get_customer(uow, customer_id: str) -> dict:
    """One profile in one query (the hottest read: Core rows, no identity map)."""
    rows = uow.db.fetch(_PROFILE, {"customer_id": customer_id})
    if not rows:
        raise NotFound(f"no customer {customer_id}")
    points = [
        {
            "kind": r["cp_kind"],
            "value": r["cp_value"],
            "do_not_contact": r["cp_do_not_contact"],
            "status": r["cp_status"],
        }
        for r in rows
        if r["cp_kind"] is not None
    ]
    # The first row is the profile, once its point's and its segment's columns are out.
    data = rows[0]
    required = data.pop("segment_required") or []
    for key in _JOINED:
        del data[key]
    data["contact_points"] = points
    # Straight from the row: the fields a segment can require (segments.REQUIRABLE)
    # are empty or not alike in the row and in its version snapshot.
    data["completeness"] = completeness(data, required)
    return data


def as_of(uow, customer_id: str, when: datetime) -> dict:
    with uow.reader() as session:
        version = session.scalar(
            select(CustomerVersion)
            .where(CustomerVersion.customer_id == customer_id, CustomerVersion.changed_at <= when)
            .order_by(CustomerVersion.version.desc())
            .limit(1)
        )
    if version is None:
        raise NotFound(f"customer {customer_id} did not exist at {when.isoformat()}")
    return {
        "id": customer_id,
        "as_of": when,
        "version": version.version,
        "changed_at": version.changed_at,
        **version.snapshot,
    }


def absorbed_ids(session, customer_id: str) -> list[str]:
    """The customer and every profile merged into it (their records stay theirs)."""
    ids, frontier = [customer_id], [customer_id]
    while frontier:
        frontier = list(
            session.scalars(select(Customer.id).where(Customer.merged_into.in_(frontier)))
        )
        ids.extend(frontier)
    return ids


def history(uow, customer_id: str, limit: int, cursor: str | None) -> dict:
    with uow.reader() as session:
        if session.get(Customer, customer_id) is None:
            raise NotFound(f"no customer {customer_id}")
        query = (
            select(CustomerVersion)
            .where(CustomerVersion.customer_id.in_(absorbed_ids(session, customer_id)))
            .order_by(CustomerVersion.changed_at.desc(), CustomerVersion.id.desc())
            .limit(limit + 1)
        )
        before = decode_time_cursor(cursor)
        if before:
            query = query.where(tuple_(CustomerVersion.changed_at, CustomerVersion.id) < before)
        rows = list(session.scalars(query))
    return page(rows, limit, lambda v: (v.changed_at.isoformat(), v.id))


def list_customers(uow, filters: dict, limit: int, cursor: str | None) -> dict:
    """Live customers, oldest first; with ``q``, the search's matches, best first
    then by name (see ``search``)."""
    q = filters.pop("q", None)
    query = select(Customer).where(Customer.merged_into.is_(None)).limit(limit + 1)
    for field in ("segment", "lifecycle_status", "owner_team", "external_ref"):
        if filters.get(field):
            query = query.where(getattr(Customer, field) == filters[field])
    if filters.get("phone"):
        query = query.where(
            Customer.id.in_(
                select(ContactPoint.customer_id).where(
                    ContactPoint.kind == "phone", ContactPoint.value == filters["phone"]
                )
            )
        )
    if q is not None:
        return _search(uow, query, q, limit, cursor)
    query = query.order_by(Customer.created_at, Customer.id)
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(Customer.created_at, Customer.id) > after)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda c: (c.created_at.isoformat(), c.id))


def _search(uow, query, q: str, limit: int, cursor: str | None) -> dict:
    after = decode_cursor(cursor, 3)
    if after and not (isinstance(after[0], int) and all(isinstance(k, str) for k in after[1:])):
        raise Invalid(
            "the cursor is not one this API issued", errors={"cursor": ["not a valid cursor"]}
        )
    with uow.reader() as session:
        where, rank = search.match(session, q)
        query = (
            query.add_columns(rank.label("rank"))
            .where(where)
            .order_by(rank, Customer.name, Customer.id)
        )
        if after:
            query = query.where(tuple_(rank, Customer.name, Customer.id) > tuple(after))
        rows = list(session.execute(query))
    result = page(rows, limit, lambda r: (r.rank, r.Customer.name, r.Customer.id))
    result["items"] = [r.Customer for r in result["items"]]
    return result
