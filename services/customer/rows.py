"""One chunk of an import: rows read, checked and written.

New customers are written in bulk (one statement per table for the chunk, with
their versions and ``customer.registered`` events); rows whose ``external_ref``
is on file go through the ordinary change path, so an unchanged row writes
nothing and a changed one gets a version and a ``customer.updated`` event.
"""
from __future__ import annotations

from functools import lru_cache

from marshmallow import RAISE, ValidationError, fields
from sqlalchemy import select

from services.customer import duplicates
from services.customer.models import (
    ContactPoint,
    Customer,
    CustomerVersion,
    Segment,
    new_id,
)
from services.customer.profiles import change, completeness, contact_points, snapshot_of
from services.customer.schemas import CustomerIn
from shared.messaging.tables import utcnow

ADDRESS = ("line1", "line2", "district", "city", "postal_code", "country")
LISTS = ("phones", "emails", "tags")
COLUMNS = ("external_ref", "kind", "name", "phone", "phones", "email", "emails", "segment",
           "preferred_language", "lifecycle_status", "owner_team", "tags", "date_of_birth",
           "do_not_call", *(f"address_{k}" for k in ADDRESS))
TRUE, FALSE = {"true", "1", "yes", "y"}, {"false", "0", "no", "n"}
# Bulk inserts need every row to name the same columns.
EMPTY = {c.key: None for c in Customer.__table__.columns}


class ImportRow(CustomerIn):
    external_ref = fields.String(allow_none=True)  # checked again below, after load

    class Meta:
        unknown = RAISE
        exclude = ("confirm_duplicate",)


ROW = ImportRow()


@lru_cache(maxsize=64)
def schema_for(columns: tuple[str, ...]) -> ImportRow:
    """A row schema with only the fields a CSV's columns can fill: marshmallow
    visits every declared field of every row, so a narrower schema loads faster."""
    wanted = {"name", "segment"}
    for column in columns:
        if column.startswith("address_"):
            wanted.add(f"address.{column[8:]}")
        elif column in COLUMNS:
            wanted.add(column)
    return ImportRow(only=tuple(sorted(wanted)))


def header_problems(header: list[str]) -> list[str]:
    problems = [f"unknown column {c!r}" for c in header if c not in COLUMNS]
    problems += [f"column {c!r} appears twice" for c in set(header) if header.count(c) > 1]
    problems += [f"missing column {c!r}" for c in ("name", "segment") if c not in header]
    if not {"phone", "phones", "email", "emails"} & set(header):
        problems.append("no phone or e-mail column")
    return problems


def from_csv(record: dict) -> dict:
    """A CSV row as the API's JSON: empty cells are 'not given'."""
    if None in record:
        raise ValidationError({"_row": ["more cells than header columns"]})
    data: dict = {}
    for column, value in record.items():
        value = (value or "").strip()
        if not value:
            continue
        if column.startswith("address_"):
            data.setdefault("address", {})[column[8:]] = value
        elif column in LISTS:
            items = [v.strip() for v in value.split(";") if v.strip()]
            key = {"phones": "number", "emails": "address"}.get(column)
            data[column] = [{key: v} for v in items] if key else items
        elif column == "do_not_call":
            if value.lower() not in TRUE | FALSE:
                raise ValidationError({"do_not_call": ["Use true or false."]})
            data[column] = value.lower() in TRUE
        else:
            data[column] = value
    return data


def _load(record: dict | None, error: str | None, fmt: str):
    if error:
        return None, {"_row": [error]}
    try:
        if fmt == "csv":
            data, schema = from_csv(record), schema_for(tuple(record))
        else:
            data, schema = record, ROW
        if any("\ufffd" in str(v) for v in data.values()):
            return None, {"_row": ["not valid UTF-8"]}
        return schema.load(data), None
    except ValidationError as exc:
        return None, exc.messages if isinstance(exc.messages, dict) else {"_row": exc.messages}


def apply(work, batch: list, actor: str, fmt: str) -> dict:
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0, "rejections": []}
    segments = {s.code: s for s in work.session.scalars(select(Segment))}
    good, refs = [], {}
    for line, record, error in batch:
        data, reasons = _load(record, error, fmt)
        if data is None:
            _reject(counts, line, reasons)
        elif data["segment"] not in segments:
            _reject(counts, line, {"segment": [f"Unknown segment {data['segment']!r}."]})
        elif data.get("external_ref") in refs:
            _reject(counts, line, {"external_ref": [
                f"repeats the external_ref of line {refs[data['external_ref']]}"]})
        else:
            if data.get("external_ref"):
                refs[data["external_ref"]] = line
            good.append((line, data))
    on_file = _on_file(work.session, list(refs))
    new = []
    for line, data in good:
        customer = on_file.get(data.get("external_ref"))
        if customer is None:
            new.append((line, data))
            continue
        given = data.pop("contact_points")
        points = _points(given) if given else None
        if points is not None:
            kept = [{"kind": p.kind, "value": p.value, "do_not_contact": p.do_not_contact,
                     "status": p.status}
                    for p in contact_points(work.session, customer.id) if p.kind not in given]
            points = kept + points
        changed = change(work, customer, data, points, actor, "import", "imported")
        counts["updated" if changed else "unchanged"] += 1
    _create_all(work, new, segments, actor, counts)
    return counts


def _points(by_kind: dict) -> list[dict]:
    return [p for points in by_kind.values() for p in points]


def _reject(counts: dict, line: int, reasons: dict) -> None:
    counts["rejected"] += 1
    counts["rejections"].append((line, reasons))


def _on_file(session, refs: list[str]) -> dict[str, Customer]:
    if not refs:
        return {}
    return {c.external_ref: c for c in session.scalars(
        select(Customer).where(Customer.external_ref.in_(refs)))}


def _create_all(work, new: list, segments: dict, actor: str, counts: dict) -> None:
    wanted = {(p["kind"], p["value"]) for _, d in new for p in _points(d["contact_points"])}
    taken: dict[tuple[str, str], str] = {}
    for kind in ("phone", "email"):  # one indexed look-up per kind, not a tuple IN
        values = [value for k, value in wanted if k == kind]
        if values:
            taken.update({(kind, value): owner for value, owner in work.session.execute(
                select(ContactPoint.value, ContactPoint.customer_id)
                .join(Customer, Customer.id == ContactPoint.customer_id)
                .where(duplicates.LIVE, ContactPoint.kind == kind,
                       ContactPoint.value.in_(values)))})
    now = utcnow()
    for line, data in new:
        points = _points(data.pop("contact_points"))
        clash = next((p for p in points if (p["kind"], p["value"]) in taken), None)
        if clash:
            owner = taken[(clash["kind"], clash["value"])]
            _reject(counts, line, {clash["kind"]: [
                f"{clash['value']} belongs to customer {owner}: a likely duplicate"]})
            continue
        customer_id = new_id()
        taken.update({(p["kind"], p["value"]): customer_id for p in points})
        _write_new(work, customer_id, data, points, segments[data["segment"]], actor, now)
        counts["created"] += 1


def _write_new(work, customer_id, data, points, segment, actor, now) -> None:
    values = {"kind": "person", "lifecycle_status": "active", "tags": [],
              "do_not_call": False, **data}
    phone = next((p["value"] for p in points if p["kind"] == "phone"), None)
    email = next((p["value"] for p in points if p["kind"] == "email"), None)
    work.add_row(Customer, {
        **EMPTY, **values, **duplicates.keys(values["name"]), "id": customer_id, "phone": phone,
        "email": email, "source": "import", "version": 1, "created_at": now,
        "updated_at": now, "calls_completed": 0, "lifetime_revenue": 0,
        "opt_out_notice_flagged": False,
        "lifetime_margin": 0})
    for p in points:
        work.add_row(ContactPoint, {"id": new_id(), "customer_id": customer_id,
                                    "kind": p["kind"], "value": p["value"],
                                    "do_not_contact": bool(p.get("do_not_contact")),
                                    "status": p.get("status") or "valid"})
    after = snapshot_of(values, points)
    work.add_row(CustomerVersion, {
        "id": new_id(), "customer_id": customer_id, "version": 1, "changed_at": now,
        "actor": actor, "source": "import", "reason": "imported",
        "changes": {k: {"old": None, "new": v} for k, v in after.items()
                    if v not in (None, [], False)}, "snapshot": after})
    work.emit("customer.registered", {
        "customer_id": customer_id, "name": values["name"], "phone": phone,
        "segment": values["segment"], "preferred_language": values.get("preferred_language"),
        "lifecycle_status": values["lifecycle_status"], "registered_at": now,
        "kind": values["kind"], "owner_team": values.get("owner_team"), "source": "import"})
    missing = completeness(after, segment.required_fields)["missing"]
    if missing:
        work.emit("customer.gaps_detected", {"customer_id": customer_id,
                                             "segment": values["segment"],
                                             "missing_fields": missing, "detected_at": now})

