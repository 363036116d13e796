"""One prepared chunk of an import written, in the importing process's transaction.

Checks that need the database are made here, for the whole chunk at once: the
segment exists, an ``external_ref`` is not repeated in the chunk, which refs are
on file, which phones and e-mails belong to a live customer. New customers are
written as the worker made them ready (one ``executemany`` per table for the
chunk, with their versions and ``customer.registered`` events); rows whose
``external_ref`` is on file go through the ordinary change path, so an unchanged
row writes nothing and a changed one gets a version and a ``customer.updated``.
"""

from __future__ import annotations

import json

from sqlalchemy import ARRAY, any_, bindparam, func, select

from services.customer.imports import row_validation as import_rows
from services.customer.imports.preparation import TABLES, Prepared, Row, Setup
from services.customer.profiles import duplicates
from services.customer.profiles.profiles import change, replaced_points
from services.customer.profiles.tables import ContactPoint, Customer
from services.customer.profiles.versions import completeness
from services.customer.segments.tables import Segment
from shared import bulk_writes

SNAPSHOT = TABLES["customer_versions"][1].index("snapshot")
# A chunk touches pages all over the name, ref, phone and e-mail indexes: with
# SQLite's default 2 MB page cache it spills and rereads pages mid-transaction.
# Set on the connection the job writes with; a limit, not an allocation.
SQLITE_CACHE_KIB = 64 * 1024


def apply(work, setup: Setup, batch: list, chunk: Prepared) -> dict:
    """Write ``chunk``, prepared from ``batch`` (its raw records, to load again the
    few rows that update a customer on file)."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0, "rejections": []}
    if work.session.get_bind().dialect.name == "sqlite":
        work.session.connection().exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    segments = {s.code: s for s in work.session.scalars(select(Segment))}
    good, refs = [], {}
    for index, row in enumerate(chunk.rows):
        line, reasons, ref, segment, _ = row
        if reasons is not None:
            _reject(counts, line, reasons)
        elif segment not in segments:
            _reject(counts, line, {"segment": [f"Unknown segment {segment!r}."]})
        elif ref in refs:
            _reject(
                counts, line, {"external_ref": [f"repeats the external_ref of line {refs[ref]}"]}
            )
        else:
            if ref:
                refs[ref] = line
            good.append((index, row))
    on_file = _on_file(work.session, list(refs))
    new = []
    for index, row in good:
        customer = on_file.get(row[2])  # its external_ref
        if customer is None:
            new.append(row)
        else:
            _, record, error = batch[index]
            data, _ = import_rows.load(record, error, setup.fmt)
            changed = _update(work, customer, data, setup.actor)
            counts["updated" if changed else "unchanged"] += 1
    _create_all(work, setup, chunk, new, segments, counts)
    return counts


def _update(work, customer: Customer, data: dict, actor: str) -> dict:
    points = replaced_points(work.session, customer.id, data.pop("contact_points"))
    return change(work, customer, data, points, actor, "import", "imported")


def _reject(counts: dict, line: int, reasons: dict) -> None:
    counts["rejected"] += 1
    counts["rejections"].append((line, reasons))


def _on_file(session, refs: list[str]) -> dict[str, Customer]:
    if not refs:
        return {}
    return {
        c.external_ref: c
        for c in session.scalars(
            select(Customer).where(_among(session, Customer.external_ref, refs))
        )
    }


def _taken(session, new: list[Row]) -> dict[tuple[str, str], str]:
    """Which of the new rows' phones and e-mails a live customer already has."""
    wanted = {point for *_, made in new for point in made[2]}  # its (kind, value)s
    taken: dict[tuple[str, str], str] = {}
    for kind in ("phone", "email"):  # one indexed look-up per kind, not a tuple IN
        values = [value for k, value in wanted if k == kind]
        if values:
            taken.update(
                {
                    (kind, value): owner
                    for value, owner in session.execute(
                        select(ContactPoint.value, ContactPoint.customer_id)
                        .join(Customer, Customer.id == ContactPoint.customer_id)
                        .where(
                            duplicates.LIVE,
                            ContactPoint.kind == kind,
                            _among(session, ContactPoint.value, values),
                        )
                    )
                }
            )
    return taken


def _among(session, column, values: list[str]):
    """``column IN values`` with the values as one parameter (an array on
    PostgreSQL, a JSON list on SQLite): ten thousand parameters cost more to bind,
    send and plan than the look-up itself."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    if dialect == "sqlite":
        listed = func.json_each(bindparam(None, json.dumps(values))).table_valued("value")
        return column.in_(select(listed.c.value))
    return column.in_(values)


def _create_all(
    work, setup: Setup, chunk: Prepared, new: list[Row], segments: dict, counts: dict
) -> None:
    taken = _taken(work.session, new)
    written: dict[str, list[tuple]] = {name: [] for name in chunk.statements}
    for line, _, _, code, made in new:
        customer_id, at, points, gaps, customer, contact_points, version, event = made
        clash = next((p for p in points if p in taken), None)
        if clash:
            _reject(
                counts,
                line,
                {clash[0]: [f"{clash[1]} belongs to customer {taken[clash]}: a likely duplicate"]},
            )
            continue
        taken.update(dict.fromkeys(points, customer_id))
        written["customers"].append(customer)
        written["contact_points"] += contact_points
        written["customer_versions"].append(version)
        written["outbox"].append(event)
        counts["created"] += 1
        segment = segments[code]
        missing = _missing(setup, gaps, version, segment.required_fields)
        if missing:
            work.emit(
                "customer.gaps_detected",
                {
                    "customer_id": customer_id,
                    "segment": segment.code,
                    "missing_fields": missing,
                    "detected_at": at,
                },
            )
    connection = work.session.connection()
    for name, rows in written.items():  # in TABLES order: customers before their points
        if rows:
            bulk_writes.write(connection, chunk.statements[name], rows)


def _missing(setup: Setup, gaps: tuple, version: tuple, required: list[str]) -> list[str]:
    """The segment's required fields the new profile lacks: from what the worker
    found missing (``gaps``), or, for a field it was not asked about, from the
    version's snapshot itself."""
    if setup.requirable.issuperset(required):
        return [field for field in required if field in gaps]
    return completeness(json.loads(version[SNAPSHOT]), required)["missing"]
