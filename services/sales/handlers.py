"""What the sales service does when other services' events arrive.

``subscriptions(settings)`` binds the handlers to the service's time zone (the local
day a call's cost counts on). Each handler keeps a stable inbox name, so renaming
code never makes an old event look new.
"""

from __future__ import annotations

from services.sales import config
from services.sales.customers import projection as customers
from services.sales.customers import subject_export
from services.sales.deals import pipeline as deals
from services.sales.pnl import costs
from shared.clock import utcnow
from shared.config import Settings
from shared.messaging.dispatcher import Handler

OPPORTUNITY = "sale_opportunity"
CALL_COMPLETED = "call.completed.v1"


def prepare(work, events) -> None:
    """The consumer's ``prepare`` (see ``Dispatcher``): what the window's completed
    calls need read, read for all of them at once."""
    calls = [event.payload for event in events if event.routing_key == CALL_COMPLETED]
    if calls:
        costs.look_up_calls(work, calls)


def subscriptions(settings: Settings) -> dict[str, list[Handler]]:
    """Routing key → handlers, the same shape in every service."""
    zone = config.timezone(settings)

    def on_customer_registered(work, event):
        customers.customer_seen(work, event.payload, event.occurred_at)

    def on_customer_updated(work, event):
        customers.customer_seen(work, event.payload, event.occurred_at)

    def on_customer_merged(work, event):
        customers.customer_merged(work, event.payload)

    def on_customer_erased(work, event):
        customers.customer_erased(work, event.payload)

    def on_call_completed(work, event):
        """Book the call's cost once; a sale opportunity opens one deal, once."""
        call = event.payload
        costs.book_call_cost(work, call, zone)
        if call["outcome"] == OPPORTUNITY and deals.deal_of_call(work, call["call_id"]) is None:
            deals.open_deal(
                work,
                customer_id=call["customer_id"],
                by="call.completed",
                now=utcnow(),
                source_call_id=call["call_id"],
                owner=call.get("agent_id"),
                currency=call["currency"],
                segment=call.get("segment"),
            )

    def on_subject_export_requested(work, event):
        subject_export.contribute(work, event.payload)

    handlers = {
        "customer.registered.v1": on_customer_registered,
        "customer.updated.v1": on_customer_updated,
        "customer.merged.v1": on_customer_merged,
        "customer.erased.v1": on_customer_erased,
        CALL_COMPLETED: on_call_completed,
        "subject.export_requested.v1": on_subject_export_requested,
    }
    for handler in handlers.values():
        handler.inbox_name = f"{__name__}.{handler.__name__}"
    return {key: [handler] for key, handler in handlers.items()}
