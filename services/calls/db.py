"""The calls service's declarative base (one metadata for every table of the service)
and the tables every service has: outbox, inbox, periodic jobs, idempotency keys."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import DeclarativeBase

from shared.messaging.tables import InboxMixin, OutboxMixin
from shared.periodic import PeriodicJobMixin
from shared.web.idempotency import IdempotencyMixin


class Base(DeclarativeBase):
    pass


class Outbox(OutboxMixin, Base):
    pass


class Inbox(InboxMixin, Base):
    pass


class PeriodicJob(PeriodicJobMixin, Base):
    pass


class IdempotencyKey(IdempotencyMixin, Base):
    pass


def new_id() -> str:
    return str(uuid.uuid4())
