"""What reporting does with events: it receives every one (its queue is bound to
``#``), appends it to the event log and folds it into the read models, both in the
handler's one transaction.

The mapping is built from the settings because the local day an event counts on
depends on ``REPORTING_TIMEZONE``.
"""

from __future__ import annotations

from services.reporting import config
from services.reporting.events import event_log, projections
from shared.config import Settings
from shared.events.contracts import SUBJECT_RECORDS
from shared.messaging.dispatcher import WILDCARD, Handler

INBOX_NAME = "services.reporting.handlers.on_event"


def subscriptions(settings: Settings) -> dict[str, list[Handler]]:
    """Routing key → handlers, the same shape in every service."""
    zone = config.timezone(settings)

    def on_event(work, event):
        if event.event_type in SUBJECT_RECORDS:
            return  # a person's records on their way to the customer service: not ours to keep
        event_log.append(work, event)
        projections.apply(work.session, event, zone)

    on_event.inbox_name = INBOX_NAME  # stable, so the inbox still matches after edits
    return {WILDCARD: [on_event]}
