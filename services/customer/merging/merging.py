"""Merging duplicates: one survivor, both histories kept.

The survivor keeps its own values and takes the other's where it has none; it
gains the other's contact points and tags; the stricter of the two do-not-call
flags and any consent withdrawal carry over. The merged profile is not deleted:
it keeps its versions, timeline and consents and points to the survivor, whose
history and timeline include it. ``customer.merged`` lets the other services
re-point their records."""

from __future__ import annotations

from decimal import Decimal

from services.customer.privacy import consent
from services.customer.profiles.profiles import change, live
from services.customer.profiles.versions import contact_points, snapshot, write_version
from services.customer.relationship.relationship import score
from shared.clock import utcnow
from shared.errors import Conflict

FILLED = ("preferred_language", "owner_team", "address", "date_of_birth", "external_ref")


def merge(uow, survivor_id: str, other_id: str, actor: str, reason: str | None):
    if survivor_id == other_id:
        raise Conflict("a customer cannot be merged into itself")
    with uow() as work:
        survivor, other = live(work.session, survivor_id), live(work.session, other_id)
        now = utcnow()
        other_before = snapshot(other, contact_points(work.session, other.id))
        taken = {
            f: getattr(other, f)
            for f in FILLED
            if getattr(survivor, f) in (None, "", {}) and getattr(other, f)
        }
        if "external_ref" in taken:  # unique: it moves, it is not copied
            other.external_ref = None
            work.session.flush()
        other.merged_into = survivor.id
        write_version(
            work,
            other,
            other_before,
            actor,
            "merge",
            f"merged into {survivor.id}" + (f": {reason}" if reason else ""),
            now,
        )
        data = {
            **taken,
            "tags": sorted(set(survivor.tags or []) | set(other.tags or [])),
            "do_not_call": survivor.do_not_call or other.do_not_call,
        }
        change(
            work,
            survivor,
            data,
            _points(work.session, survivor.id, other.id),
            actor,
            "merge",
            f"absorbed {other.id}" + (f": {reason}" if reason else ""),
        )
        _relationship(survivor, other)
        _consents(work, survivor.id, other.id, actor)
        work.emit(
            "customer.merged",
            {
                "survivor_id": survivor.id,
                "merged_id": other.id,
                "merged_at": now,
                "segment": survivor.segment,
            },
        )
    return survivor


def _points(session, survivor_id: str, other_id: str) -> list[dict]:
    points: dict[tuple[str, str], dict] = {}
    for point in contact_points(session, survivor_id) + contact_points(session, other_id):
        key = (point.kind, point.value)
        known = points.setdefault(
            key, {"kind": point.kind, "value": point.value, "do_not_contact": False}
        )
        known["do_not_contact"] = known["do_not_contact"] or point.do_not_contact
    return list(points.values())


def _relationship(survivor, other) -> None:
    survivor.calls_completed += other.calls_completed
    survivor.lifetime_revenue = Decimal(survivor.lifetime_revenue or 0) + Decimal(
        other.lifetime_revenue or 0
    )
    survivor.lifetime_margin = Decimal(survivor.lifetime_margin or 0) + Decimal(
        other.lifetime_margin or 0
    )
    if other.last_contacted_at and (
        survivor.last_contacted_at is None or other.last_contacted_at > survivor.last_contacted_at
    ):
        survivor.last_contacted_at = other.last_contacted_at
        survivor.satisfaction = other.satisfaction or survivor.satisfaction
        survivor.propensity = (
            other.propensity if other.propensity is not None else survivor.propensity
        )
    if survivor.satisfaction_avg is None:
        survivor.satisfaction_avg = other.satisfaction_avg
    survivor.opt_out_notice_at = survivor.opt_out_notice_at or other.opt_out_notice_at
    survivor.relationship_score = score(survivor)


def _consents(work, survivor_id: str, other_id: str, actor: str) -> None:
    """A withdrawal on either profile stands; a grant only fills a gap."""
    mine = {(c.channel, c.purpose): c for c in consent.current(work.session, survivor_id)}
    for entry in consent.current(work.session, other_id):
        held = mine.get((entry.channel, entry.purpose))
        if held is None or (entry.status == "withdrawn" and held.status != "withdrawn"):
            consent.add(
                work,
                survivor_id,
                {
                    "channel": entry.channel,
                    "purpose": entry.purpose,
                    "status": entry.status,
                    "source": f"merge of {other_id}",
                    "notice_version": entry.notice_version,
                },
                actor,
            )
