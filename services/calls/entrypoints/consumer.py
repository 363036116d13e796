"""The calls service's consumer process: keeps the customer and consent projections
current, and writes the webhook deliveries its own events owe. (Missed calls are swept,
and deliveries sent, by the periodic work in the relay process.)"""

from services.calls import config
from services.calls.db import Inbox, Outbox
from services.calls.handlers import subscriptions
from shared.entrypoints import run_consumer


def main() -> None:
    settings = config.load()
    run_consumer(settings, config.MIGRATIONS, Outbox, Inbox, subscriptions(settings))


if __name__ == "__main__":
    main()
