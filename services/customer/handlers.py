"""What the customer service does when other services' events arrive."""

from __future__ import annotations

from services.customer.privacy import exports
from services.customer.relationship import relationship
from services.customer.relationship.relationship import lock_customers  # noqa: F401 - the consumer's prepare
from shared.config import Settings
from shared.messaging.dispatcher import Handler


def on_call_completed(work, event):
    relationship.record_completed_call(work, event)


def on_sale_recorded(work, event):
    relationship.record_sale(work, event, "sale", +1)


def on_sale_returned(work, event):
    relationship.record_sale(work, event, "return", -1)


def on_sale_cancelled(work, event):
    relationship.record_sale(work, event, "cancellation", -1)


def on_subject_export_contributed(work, event):
    exports.record_contribution(work, event.payload)


def subscriptions(settings: Settings) -> dict[str, list[Handler]]:
    """Routing key → handlers, the same shape in every service (the customer
    service's handlers do not depend on its settings)."""
    return dict(_SUBSCRIPTIONS)


_SUBSCRIPTIONS: dict[str, list[Handler]] = {
    "call.completed.v1": [on_call_completed],
    "sale.recorded.v1": [on_sale_recorded],
    "sale.returned.v1": [on_sale_returned],
    "sale.cancelled.v1": [on_sale_cancelled],
    "subject.export_contributed.v1": [on_subject_export_contributed],
}
