"""The sales service's one declarative base, and the tables every service keeps the
same way: the outbox and inbox of its events, periodic jobs and the stored answers
of idempotent requests. Each aggregate's own tables are in its package (``ledger/tables.py``,
``pnl/tables.py``, ...), all on this ``Base``; ``migrations/env.py`` imports them
so that Alembic sees every table.
"""

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
