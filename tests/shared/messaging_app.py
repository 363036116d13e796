"""A minimal service used to test the shared messaging machinery on its own:
an outbox, an inbox and one table recording every application of a handler."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from sqlalchemy import Integer, String
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import Database
from shared.messaging.tables import InboxMixin, OutboxMixin
from shared.messaging.unit_of_work import UnitOfWorkFactory

SERVICE = "customer"  # borrow a bound queue: customer's queue receives call.completed.v1


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


class Applied(Base):
    """One row per handler run: a duplicate effect shows as a repeated event_id."""

    __tablename__ = "applied"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36))


OUTAGE = {"until": 0.0}  # while time.monotonic() is below this, the "database" is down
POISONED: list[str] = []  # the event id of every attempt at a poison event
CURED = {"poison": False}  # once True, poison events are handled like any other


def on_call_completed(work, event):
    if event.payload["notes"] == "poison" and not CURED["poison"]:
        POISONED.append(event.event_id)
        raise RuntimeError("this event always fails")
    if time.monotonic() < OUTAGE["until"]:
        raise OperationalError("INSERT ...", {}, Exception("database is locked"))
    work.session.add(Applied(event_id=event.event_id))


SUBSCRIPTIONS = {"call.completed.v1": [on_call_completed]}


def make_db(url: str) -> Database:
    db = Database(url)
    Base.metadata.create_all(db.engine)
    return db


def emit_calls(db: Database, n: int, notes: str | None = None) -> list[str]:
    uow = UnitOfWorkFactory(db, Outbox, "calls")
    ids = []
    with uow() as work:
        for i in range(n):
            ids.append(
                work.emit(
                    "call.completed",
                    {
                        "call_id": f"call-{i}",
                        "customer_id": "c1",
                        "channel": "phone",
                        "outcome": "no_answer",
                        "completed_at": datetime.now(UTC),
                        "notes": notes,
                    },
                ).event_id
            )
    return ids


if __name__ == "__main__":
    # python -m tests.shared.messaging_app <db url> <amqp url> <namespace>: a relay process
    import threading

    from shared import logs
    from shared.messaging.relay import Relay
    from shared.messaging.topology import Names

    logs.configure("test", "relay")
    url, amqp, namespace = sys.argv[1:4]
    relay = Relay(SERVICE, make_db(url), Outbox, amqp, Names(namespace), batch_size=200)
    relay.run(threading.Event())
