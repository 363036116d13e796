"""Everything held about one data subject here (a PDPO data access request): the
profile, the profiles merged into it, consents, versions, timeline and data-quality
items. The export across services (``exports``) puts it beside the others' parts."""

from __future__ import annotations

from sqlalchemy import select

from services.customer.privacy import consent
from services.customer.profiles.reads import absorbed_ids, get_customer
from services.customer.profiles.tables import CustomerVersion
from services.customer.quality.tables import QualityItem
from services.customer.relationship.tables import Activity


def subject(uow, customer_id: str) -> dict:
    """Every record held about a person (PDPO data access request)."""
    profile = get_customer(uow, customer_id)
    with uow.reader() as session:
        ids = absorbed_ids(session, customer_id)
        versions = session.scalars(
            select(CustomerVersion)
            .where(CustomerVersion.customer_id.in_(ids))
            .order_by(CustomerVersion.changed_at)
        )
        activities = session.scalars(
            select(Activity).where(Activity.customer_id.in_(ids)).order_by(Activity.occurred_at)
        )
        items = session.scalars(select(QualityItem).where(QualityItem.customer_id.in_(ids)))
        return {
            "profile": profile,
            "merged_profiles": ids[1:],
            "consents": consent.overview(uow, customer_id)["history"],
            "history": [
                {
                    "version": v.version,
                    "changed_at": v.changed_at,
                    "actor": v.actor,
                    "source": v.source,
                    "reason": v.reason,
                    "changes": v.changes,
                    "customer_id": v.customer_id,
                }
                for v in versions
            ],
            "activities": [
                {"kind": a.kind, "occurred_at": a.occurred_at, "summary": a.summary}
                for a in activities
            ],
            "data_quality_items": [
                {"rule": i.rule, "detail": i.detail, "status": i.status} for i in items
            ],
        }
