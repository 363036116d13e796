"""What the calls service does when other services' events arrive, and with its own
call and follow-up events: the webhook deliveries they owe (``notifications``).

An erasure reaches every store here that held the person: the projection, the calls'
notes and answers, the webhook deliveries, the outbox's sent events and the stored
idempotent answers."""

from services.calls.customers import consent, projection, reactions, subject_export
from services.calls.db import IdempotencyKey, Outbox
from services.calls.notifications import owed as notifications
from shared.clock import utcnow
from shared.config import Settings
from shared.messaging.dispatcher import Handler
from shared.messaging.erasure import scrub_outbox
from shared.web import idempotency


def on_customer_registered(work, event):
    projection.apply_registered(work.session, event.payload, event.occurred_at)
    work.session.flush()
    reactions.plan_customer(work, event.payload["customer_id"])


def on_customer_updated(work, event):
    before = projection.apply_updated(work.session, event.payload, event.occurred_at)
    work.session.flush()
    customer = event.payload["customer_id"]
    if event.payload.get("lifecycle_status") == "archived":
        reactions.cancel_calls(work, customer, "archived")
    elif before is not None:
        reactions.move_segment(work, customer, before)


def on_customer_merged(work, event):
    reactions.merge(work, event.payload["merged_id"], event.payload["survivor_id"])


def on_customer_consent_changed(work, event):
    p = event.payload
    if not consent.record(
        work.session, p["customer_id"], p["channel"], p["purpose"], p["status"], p["changed_at"]
    ):
        return
    work.session.flush()
    if p["status"] == "withdrawn":
        reactions.cancel_calls(
            work, p["customer_id"], "consent_withdrawn", channel=p["channel"], purpose=p["purpose"]
        )
    else:
        reactions.plan_customer(work, p["customer_id"], p["channel"], p["purpose"])


def on_customer_opted_out(work, event):
    p = event.payload
    consent.record(
        work.session, p["customer_id"], p["channel"], p["purpose"], "withdrawn", p["opted_out_at"]
    )
    reactions.cancel_calls(
        work, p["customer_id"], "opted_out", channel=p["channel"], purpose=p["purpose"]
    )


def on_customer_erased(work, event):
    customer = event.payload["customer_id"]
    ids = [customer, *event.payload.get("merged_ids", [])]
    for person in ids:
        projection.apply_erased(work.session, person, event.payload["erased_at"])
        reactions.scrub(work, person)
    reactions.cancel_calls(work, customer, "erased")
    notifications.forget(work.session, ids)
    scrub_outbox(work.session, Outbox, ids)
    idempotency.forget(work.session, IdempotencyKey, ids)


def on_customer_gaps_detected(work, event):
    projection.apply_gaps(
        work.session,
        event.payload["customer_id"],
        event.payload["missing_fields"],
        event.payload["detected_at"],
    )


def on_subject_export_requested(work, event):
    subject_export.contribute(work, event.payload)


def on_call_assigned(work, event):
    notifications.on_assigned(work.session, event.event_id, event.payload, utcnow())


def on_call_cancelled(work, event):
    notifications.on_cancelled(work.session, event.event_id, event.payload, utcnow())


def on_followup_created(work, event):
    notifications.on_followup(work.session, event.event_id, event.payload, utcnow())


def subscriptions(settings: Settings) -> dict[str, list[Handler]]:
    """Routing key → handlers, the same shape in every service (the calls service's
    handlers do not depend on its settings)."""
    return dict(_SUBSCRIPTIONS)


_SUBSCRIPTIONS: dict[str, list[Handler]] = {
    "customer.registered.v1": [on_customer_registered],
    "customer.updated.v1": [on_customer_updated],
    "customer.merged.v1": [on_customer_merged],
    "customer.consent_changed.v1": [on_customer_consent_changed],
    "customer.opted_out.v1": [on_customer_opted_out],
    "customer.erased.v1": [on_customer_erased],
    "customer.gaps_detected.v1": [on_customer_gaps_detected],
    "subject.export_requested.v1": [on_subject_export_requested],
    # The service's own events, for the webhook deliveries they owe.
    "call.assigned.v1": [on_call_assigned],
    "call.cancelled.v1": [on_call_cancelled],
    "followup.created.v1": [on_followup_created],
}
