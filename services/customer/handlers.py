"""What the customer service does when other services' events arrive."""
from services.customer import services


def on_call_completed(work, event):
    services.record_completed_call(work, event)


SUBSCRIPTIONS = {
    "call.completed.v1": [on_call_completed],
}
