"""What the calls service does when other services' events arrive."""
from services.calls import projection


def on_customer_registered(work, event):
    projection.apply_registered(work.session, event.payload, event.occurred_at)


def on_customer_updated(work, event):
    projection.apply_updated(work.session, event.payload, event.occurred_at)


SUBSCRIPTIONS = {
    "customer.registered.v1": [on_customer_registered],
    "customer.updated.v1": [on_customer_updated],
}
