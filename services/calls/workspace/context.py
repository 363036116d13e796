"""What the call page shows beside the call: the customer's context for the call's
channel, from the customer projection and this service's own calls, consents and
follow-ups. A read use case, like ``reads.queue``; rules stay where they live
(``findings`` decides whether the opt-out notice is owed)."""

from __future__ import annotations

from sqlalchemy import select

from services.calls.calls import findings
from services.calls.calls.reads import get_call
from services.calls.calls.tables import Call, Followup
from services.calls.customers.tables import Consent, Customer
from shared.errors import NotFound

LAST_OUTCOMES = 5


def call_page(uow, caller, call_id: str) -> dict:
    """The call, its checklist, the customer's context and what is open about them."""
    call = get_call(uow, call_id)
    if caller.role == "agent" and call.agent_id not in (None, caller.subject):
        raise NotFound(f"no call {call_id} in your queue")
    with uow.reader() as session:
        customer = session.get(Customer, call.customer_id)
        return {
            "call": call,
            "customer": customer,
            "checklist": findings.checklist(session, call),
            "gaps": list(customer.gaps or []) if customer else [],
            "opt_out_notice_owed": findings.first_marketing_contact(session, call),
            "consents": list(
                session.scalars(
                    select(Consent)
                    .where(Consent.customer_id == call.customer_id)
                    .order_by(Consent.channel, Consent.purpose)
                )
            ),
            "last_calls": list(
                session.scalars(
                    select(Call)
                    .where(Call.customer_id == call.customer_id, Call.status == "completed")
                    .order_by(Call.completed_at.desc())
                    .limit(LAST_OUTCOMES)
                )
            ),
            "open_followups": open_followups(session, call.customer_id),
        }


def open_followups(session, customer_id: str) -> list[dict]:
    """Follow-ups whose call is still to be made (an escalation is an open complaint)."""
    rows = session.execute(
        select(Followup, Call.status)
        .outerjoin(Call, Call.id == Followup.call_id)
        .where(Followup.customer_id == customer_id)
        .order_by(Followup.created_at.desc())
    )
    return [
        {
            "kind": f.kind,
            "due_at": f.due_at,
            "reason": f.reason,
            "complaint": f.kind == "escalation",
        }
        for f, status in rows
        if status == "scheduled"
    ]
