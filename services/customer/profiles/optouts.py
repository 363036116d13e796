"""Opt-outs announced the moment a profile change implies one (PDPO: honoured at
once, everywhere): a do-not-call request on the profile, or a contact point
flagged do-not-contact."""

from __future__ import annotations

from sqlalchemy import select

from services.customer.profiles.tables import ContactPoint


def announce(work, customer, before: dict, now) -> None:
    if customer.do_not_call and not before.get("do_not_call"):
        opted_out(work, customer.id, now, reason="do_not_call")
    was = {(p["kind"], p["value"]) for p in before.get("contact_points", []) if p["do_not_contact"]}
    points = work.session.scalars(
        select(ContactPoint).where(
            ContactPoint.customer_id == customer.id, ContactPoint.do_not_contact.is_(True)
        )
    )
    for point in points:
        if point.do_not_contact and (point.kind, point.value) not in was:
            opted_out(
                work,
                customer.id,
                now,
                reason="do_not_contact",
                channel="email" if point.kind == "email" else None,
                contact_point=point.value,
            )


def opted_out(
    work,
    customer_id: str,
    now,
    reason: str,
    channel: str | None = None,
    purpose: str | None = None,
    contact_point: str | None = None,
) -> None:
    work.emit(
        "customer.opted_out",
        {
            "customer_id": customer_id,
            "channel": channel,
            "purpose": purpose,
            "reason": reason,
            "contact_point": contact_point,
            "opted_out_at": now,
        },
    )
