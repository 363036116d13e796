"""The calls service's answer to a data access request: everything it holds about
the customer (and the profiles merged into it), sent back to the customer service as
``subject.export_contributed`` parts.

Sections: ``customer`` (this service's copy of the profile), ``consents``, ``calls``
(every status: scheduled, cancelled with the reason, completed with the outcome,
checklist answers, notes and satisfaction), ``assignments`` (who was given each call,
by whom and why), ``partner_reads`` (which partner read the customer's data, when and
what), ``followups`` and ``quality_flags`` raised on the customer's calls. An erased
customer's records are already scrubbed here (``reactions.scrub``), so what goes is
the anonymous skeleton.
"""

from __future__ import annotations

from sqlalchemy import select

from services.calls.calls.tables import Call, Followup, QualityFlag
from services.calls.customers.tables import Consent, Customer
from services.calls.partner.tables import PartnerRead
from services.calls.people.tables import Assignment
from services.calls.plans.tables import CallPlan
from shared.clock import utcnow
from shared.events.export_parts import payloads, record

SERVICE = "calls"
CUSTOMER = (
    "customer_id",
    "name",
    "phone",
    "segment",
    "preferred_language",
    "lifecycle_status",
    "gaps",
    "updated_at",
)
CONSENT = ("customer_id", "channel", "purpose", "status", "changed_at")
CALL = (
    "id",
    "customer_id",
    "plan_id",
    "plan_version",
    "channel",
    "purpose",
    "status",
    "kind",
    "attempt",
    "priority",
    "due_at",
    "window_end",
    "created_at",
    "agent_id",
    "partner_id",
    "unassigned_reason",
    "cancel_reason",
    "outcome",
    "completed_at",
    "completed_by",
    "duration_seconds",
    "satisfaction",
    "propensity",
    "notes",
    "answers",
    "checklist_compliance",
    "competitor_mentions",
    "referrals",
    "confirmed_fields",
    "opt_out_notice_given",
    "callback_at",
    "source_call_id",
    "cost",
)
ASSIGNMENT = ("call_id", "agent_id", "partner_id", "mode", "reason", "decided_by", "decided_at")
PARTNER_READ = ("partner_id", "subject", "call_id", "customer_id", "fields", "endpoint", "read_at")
FOLLOWUP = ("id", "kind", "source_call_id", "call_id", "due_at", "reason", "created_at")
FLAG = ("call_id", "agent_id", "rule", "detail", "created_at")


def sections(session, ids: list[str]) -> dict[str, list[dict]]:
    """Every record this service holds about the customers ``ids``."""
    calls = list(
        session.execute(
            select(Call, CallPlan.name)
            .join(CallPlan, CallPlan.id == Call.plan_id)
            .where(Call.customer_id.in_(ids))
            .order_by(Call.due_at, Call.id)
        )
    )
    call_ids = [call.id for call, _ in calls]
    return {
        "customer": [
            record(c, CUSTOMER)
            for c in session.scalars(select(Customer).where(Customer.customer_id.in_(ids)))
        ],
        "consents": [
            record(c, CONSENT)
            for c in session.scalars(
                select(Consent).where(Consent.customer_id.in_(ids)).order_by(Consent.changed_at)
            )
        ],
        "calls": [{**record(call, CALL), "plan_name": plan} for call, plan in calls],
        "assignments": [
            record(a, ASSIGNMENT)
            for a in session.scalars(
                select(Assignment)
                .where(Assignment.call_id.in_(call_ids))
                .order_by(Assignment.decided_at)
            )
        ],
        "partner_reads": [
            record(r, PARTNER_READ)
            for r in session.scalars(
                select(PartnerRead).where(PartnerRead.customer_id.in_(ids)).order_by(PartnerRead.id)
            )
        ],
        "followups": [
            record(f, FOLLOWUP)
            for f in session.scalars(
                select(Followup).where(Followup.customer_id.in_(ids)).order_by(Followup.created_at)
            )
        ],
        "quality_flags": [
            record(f, FLAG)
            for f in session.scalars(
                select(QualityFlag)
                .where(QualityFlag.call_id.in_(call_ids))
                .order_by(QualityFlag.created_at)
            )
        ],
    }


def contribute(work, request: dict) -> None:
    """Answer the request in the handler's transaction: the parts leave through the
    outbox exactly once, however often the request is delivered."""
    found = sections(work.session, request["customer_ids"])
    work.emit_many("subject.export_contributed", payloads(request, SERVICE, found, utcnow()))
