"""The customer service's declarative base, and the tables that serve every
aggregate alike: the outbox and inbox, periodic jobs and stored idempotent answers.
Each aggregate's own tables are in its package (``profiles/tables.py``, …)."""

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
