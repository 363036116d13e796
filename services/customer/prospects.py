"""Prospects named on calls: a referral becomes a prospect profile with its
source, deduplicated like any other registration; a referral of someone already
on file is noted on that profile's timeline instead."""
from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from services.customer import duplicates
from services.customer.models import Activity, Segment, new_id
from services.customer.profiles import create
from shared.messaging.tables import utcnow


def _points(referral: dict) -> list[dict]:
    points = []
    if referral.get("phone"):
        try:
            number = phonenumbers.parse(referral["phone"], "HK")
            if phonenumbers.is_valid_number(number):
                points.append({"kind": "phone", "value": phonenumbers.format_number(
                    number, phonenumbers.PhoneNumberFormat.E164)})
        except phonenumbers.NumberParseException:
            pass
    if referral.get("email"):
        try:
            points.append({"kind": "email", "value": validate_email(
                referral["email"], check_deliverability=False).normalized})
        except EmailNotValidError:
            pass
    return points


def from_referral(work, referrer, call: dict, referral: dict, noted: set) -> None:
    points = _points(referral)
    found = duplicates.candidates_for(work.session, referral["name"], None, points)
    subject = found[0]["customer_id"] if found else None
    if subject is None:
        segment = referral.get("segment")
        if not segment or work.session.get(Segment, segment) is None:
            segment = referrer.segment
        prospect = create(work, {
            "name": referral["name"][:200], "segment": segment, "kind": "person",
            "lifecycle_status": "prospect", "referred_by_call_id": call["call_id"],
        }, points, f"call:{call['call_id']}", "referral", utcnow())
        subject = prospect.id
    if subject in noted:  # named twice on one call
        return
    noted.add(subject)
    work.add_row(Activity, {
        "id": new_id(), "customer_id": subject, "kind": "referral",
        "occurred_at": call["completed_at"], "source_event_id": call["call_id"],
        "summary": {"call_id": call["call_id"], "referred_by": referrer.id,
                    "note": referral.get("note"), "new_prospect": not found}})
