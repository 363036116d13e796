"""The permanent record of a profile: the profile as a version keeps it
(``snapshot``), how complete it is for its segment, and one append-only version
per change, written in the same transaction as the change (``write_version``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select

from services.customer.profiles.tables import ContactPoint, Customer, CustomerVersion
from services.customer.segments.tables import Segment
from services.customer.tables import new_id

SCALARS = (
    "kind",
    "name",
    "segment",
    "preferred_language",
    "lifecycle_status",
    "owner_team",
    "external_ref",
    "tags",
    "address",
    "date_of_birth",
    "do_not_call",
)


def snapshot(customer: Customer, points: list[ContactPoint]) -> dict:
    """The profile as the permanent record keeps it (JSON-ready)."""
    return snapshot_of(
        {f: getattr(customer, f) for f in SCALARS},
        [
            {
                "kind": p.kind,
                "value": p.value,
                "do_not_contact": p.do_not_contact,
                "status": p.status,
            }
            for p in points
        ],
    )


def snapshot_of(values: dict, points: list[dict]) -> dict:
    data = {f: values.get(f) for f in SCALARS}
    if data["date_of_birth"] is not None:
        data["date_of_birth"] = data["date_of_birth"].isoformat()
    data["contact_points"] = sorted(
        (
            {
                "kind": p["kind"],
                "value": p["value"],
                "do_not_contact": bool(p["do_not_contact"]),
                "status": p.get("status") or "valid",
            }
            for p in points
        ),
        key=lambda p: (p["kind"], p["value"]),
    )
    return data


# Built once, the customer bound at execution (SQLAlchemy keeps its cache key).
_CONTACT_POINTS = (
    select(ContactPoint)
    .where(ContactPoint.customer_id == bindparam("customer_id"))
    .order_by(ContactPoint.kind, ContactPoint.value)
)


def contact_points(session, customer_id: str) -> list[ContactPoint]:
    return list(session.scalars(_CONTACT_POINTS, {"customer_id": customer_id}))


def completeness(profile: dict, required: list[str]) -> dict:
    """Share of the segment's required fields the profile carries, and the rest."""
    kinds = {p["kind"] for p in profile.get("contact_points", [])}

    def has(field):
        if field in ("phone", "email"):
            return field in kinds
        return profile.get(field) not in (None, "", [], {})

    missing = [f for f in required if not has(f)]
    score = 1.0 if not required else round(1 - len(missing) / len(required), 3)
    return {"score": score, "missing": missing}


def write_version(
    work,
    customer: Customer,
    before: dict,
    actor: str,
    source: str,
    reason: str | None,
    now: datetime,
) -> dict:
    """Record what changed as a new version; return the changes ({} if none)."""
    work.session.flush()
    after = snapshot(customer, contact_points(work.session, customer.id))
    changes = {k: {"old": before.get(k), "new": v} for k, v in after.items() if before.get(k) != v}
    if not changes:
        return {}
    if before:
        customer.version += 1
        customer.updated_at = now
    work.add_row(
        CustomerVersion,
        {
            "id": new_id(),
            "customer_id": customer.id,
            "version": customer.version,
            "changed_at": now,
            "actor": actor,
            "source": source,
            "reason": reason,
            "changes": changes,
            "snapshot": after,
        },
    )
    segment = work.session.get(Segment, customer.segment)
    missing = completeness(after, segment.required_fields)["missing"]
    # Announced when they change, also to none left, so calls drops what was filled.
    if missing != completeness(before, segment.required_fields)["missing"] and (missing or before):
        work.emit(
            "customer.gaps_detected",
            {
                "customer_id": customer.id,
                "segment": customer.segment,
                "missing_fields": missing,
                "detected_at": now,
            },
        )
    return changes
