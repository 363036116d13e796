"""A segment's customers as CSV, streamed, in the import's own columns, so an export
re-imports as an upsert."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select

from services.customer.imports.row_validation import ADDRESS, COLUMNS
from services.customer.profiles.tables import ContactPoint, Customer

BATCH = 2000


def _line(values) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def _row(customer: Customer, points: list[ContactPoint]) -> list:
    address = customer.address or {}
    phones = ";".join(p.value for p in points if p.kind == "phone")
    emails = ";".join(p.value for p in points if p.kind == "email")
    values = {
        "external_ref": customer.external_ref,
        "kind": customer.kind,
        "name": customer.name,
        "phones": phones,
        "emails": emails,
        "segment": customer.segment,
        "preferred_language": customer.preferred_language,
        "lifecycle_status": customer.lifecycle_status,
        "owner_team": customer.owner_team,
        "tags": ";".join(customer.tags or []),
        "date_of_birth": customer.date_of_birth and customer.date_of_birth.isoformat(),
        "do_not_call": "true" if customer.do_not_call else "false",
        **{f"address_{k}": address.get(k) for k in ADDRESS},
    }
    return [values.get(c) or "" for c in EXPORTED]


EXPORTED = [c for c in COLUMNS if c not in ("phone", "email")]


def segment_csv(uow, segment: str | None) -> Iterator[str]:
    yield _line(EXPORTED)
    after = ""
    while True:
        with uow.reader() as session:
            query = (
                select(Customer)
                .where(Customer.merged_into.is_(None), Customer.id > after)
                .order_by(Customer.id)
                .limit(BATCH)
            )
            if segment:
                query = query.where(Customer.segment == segment)
            customers = list(session.scalars(query))
            if not customers:
                return
            points: dict[str, list] = {}
            for p in session.scalars(
                select(ContactPoint)
                .where(ContactPoint.customer_id.in_([c.id for c in customers]))
                .order_by(ContactPoint.kind, ContactPoint.value)
            ):
                points.setdefault(p.customer_id, []).append(p)
        yield "".join(_line(_row(c, points.get(c.id, []))) for c in customers)
        after = customers[-1].id
