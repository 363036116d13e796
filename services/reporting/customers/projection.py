"""Customer events folded into the data-quality, consent and follow-up read models.

Every fact keeps the newest value by event time, so arrival order does not matter;
a quality item resolved before its flag arrives stays resolved.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.reporting.customers import erasure
from services.reporting.customers.overdue import customer_facts
from services.reporting.customers.tables import CustomerGaps, FollowupOpen, QualityItem
from services.reporting.pnl import booking
from services.reporting.store.locked_rows import row_for_update


def customer_merged(session: Session, event, _zone) -> None:
    data = event.payload
    if "merged_id" not in data:  # logged as received, but not a V1 merge we can fold
        return
    customer_facts(session, data["merged_id"]).merged_into = data["survivor_id"]
    booking.follow(session, data["merged_id"], data["survivor_id"])


def customer_opted_out(session: Session, event, _zone) -> None:
    data = event.payload
    if data.get("channel") is None:  # an opt-out of every channel stops proposals
        facts = customer_facts(session, data["customer_id"])
        if facts.opted_out_at is None or data["opted_out_at"] > facts.opted_out_at:
            facts.opted_out_at = data["opted_out_at"]


def customer_erased(session: Session, event, _zone) -> None:
    erasure.erase(session, event.payload["customer_id"])
    customer_facts(session, event.payload["customer_id"]).opted_out_at = event.payload["erased_at"]


def _item(session, data) -> QualityItem:
    item = row_for_update(session, QualityItem, {"item_id": data["item_id"]}, rule=data["rule"])
    item.customer_id = item.customer_id or data.get("customer_id")
    item.segment = item.segment or data.get("segment")
    return item


def quality_flagged(session: Session, event, _zone) -> None:
    item = _item(session, event.payload)
    item.flagged_at = event.payload["flagged_at"]


def quality_resolved(session: Session, event, _zone) -> None:
    item = _item(session, event.payload)
    item.resolved_at = event.payload["resolved_at"]


def gaps_detected(session: Session, event, _zone) -> None:
    data = event.payload
    row = row_for_update(
        session,
        CustomerGaps,
        {"customer_id": data["customer_id"]},
        missing="",
        detected_at=data["detected_at"],
    )
    if data["detected_at"] < row.detected_at:
        return
    row.missing, row.detected_at = ",".join(sorted(data["missing_fields"])), data["detected_at"]


def followup_created(session: Session, event, _zone) -> None:
    data = event.payload
    session.merge(
        FollowupOpen(
            followup_id=data["followup_id"],
            kind=data["kind"],
            customer_id=data["customer_id"],
            due_at=data.get("due_at"),
            reason=data.get("reason"),
            created_at=data["created_at"],
        )
    )


PROJECTIONS = {
    ("customer.merged", 1): customer_merged,
    ("customer.opted_out", 1): customer_opted_out,
    ("customer.erased", 1): customer_erased,
    ("customer.quality_flagged", 1): quality_flagged,
    ("customer.quality_resolved", 1): quality_resolved,
    ("customer.gaps_detected", 1): gaps_detected,
    ("followup.created", 1): followup_created,
}
