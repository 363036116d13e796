"""Market segments as managed resources: what a complete profile in each carries
and when a profile in it counts as stale."""

from __future__ import annotations

from sqlalchemy import select

from services.customer.segments.tables import Segment
from shared.clock import utcnow
from shared.errors import Conflict, NotFound
from shared.web.pagination import decode_text_cursor, page

REQUIRABLE = (
    "phone",
    "email",
    "address",
    "preferred_language",
    "owner_team",
    "date_of_birth",
    "external_ref",
    "tags",
)


def list_segments(uow, limit: int, cursor: str | None) -> dict:
    """A page of segments in the order of their codes."""
    query = select(Segment).order_by(Segment.code).limit(limit + 1)
    after = decode_text_cursor(cursor)
    if after is not None:
        query = query.where(Segment.code > after)
    with uow.reader() as session:
        return page(list(session.scalars(query)), limit, lambda s: (s.code,))


def get_segment(uow, code: str) -> Segment:
    with uow.reader() as session:
        segment = session.get(Segment, code)
    if segment is None:
        raise NotFound(f"no segment {code}")
    return segment


def create_segment(uow, data: dict) -> Segment:
    with uow() as work:
        if work.session.get(Segment, data["code"]) is not None:
            raise Conflict(f"segment {data['code']} exists")
        segment = Segment(**data, created_at=utcnow())
        work.session.add(segment)
    return segment


def update_segment(uow, code: str, data: dict) -> Segment:
    with uow() as work:
        segment = work.session.get(Segment, code)
        if segment is None:
            raise NotFound(f"no segment {code}")
        for field, value in data.items():
            setattr(segment, field, value)
    return segment
