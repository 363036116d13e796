"""Prospects named on calls: a referral becomes a prospect profile with its
source, deduplicated like any other registration; a referral of someone already
on file is noted on that profile's timeline instead."""

from __future__ import annotations

import contextlib

from marshmallow import ValidationError

from services.customer.profiles import duplicates
from services.customer.profiles.profiles import create
from services.customer.relationship.tables import Activity
from services.customer.segments.tables import Segment
from services.customer.tables import new_id
from shared.clock import utcnow
from shared.web.fields import Email, Phone

_FIELDS = {"phone": Phone(), "email": Email()}


def _points(referral: dict) -> list[dict]:
    """The referral's phone and e-mail, normalised as the API would; one that
    does not validate is left out (the prospect is still worth having)."""
    points = []
    for kind, field in _FIELDS.items():
        if referral.get(kind):
            with contextlib.suppress(ValidationError):
                points.append({"kind": kind, "value": field.deserialize(referral[kind])})
    return points


def from_referral(work, referrer, call: dict, referral: dict, noted: set) -> None:
    points = _points(referral)
    found = duplicates.candidates_for(work.session, referral["name"], None, points)
    subject = found[0]["customer_id"] if found else None
    if subject is None:
        segment = referral.get("segment")
        if not segment or work.session.get(Segment, segment) is None:
            segment = referrer.segment
        prospect = create(
            work,
            {
                "name": referral["name"][:200],
                "segment": segment,
                "kind": "person",
                "lifecycle_status": "prospect",
                "referred_by_call_id": call["call_id"],
            },
            points,
            f"call:{call['call_id']}",
            "referral",
            utcnow(),
        )
        subject = prospect.id
    if subject in noted:  # named twice on one call
        return
    noted.add(subject)
    work.add_row(
        Activity,
        {
            "id": new_id(),
            "customer_id": subject,
            "kind": "referral",
            "occurred_at": call["completed_at"],
            "source_event_id": call["call_id"],
            "summary": {
                "call_id": call["call_id"],
                "referred_by": referrer.id,
                "note": referral.get("note"),
                "new_prospect": not found,
            },
        },
    )
