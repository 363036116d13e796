"""What the sales service does when other services' events arrive."""
from services.sales import services


def on_customer_registered(work, event):
    services.project_registered_customer(work, event.payload)


SUBSCRIPTIONS = {
    "customer.registered.v1": [on_customer_registered],
}
