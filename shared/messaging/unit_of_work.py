"""The unit of work: one transaction in which domain changes and the events they
cause are written together."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from itertools import islice
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from shared import bulk_writes, clock, context
from shared.db import Database
from shared.events import Event, make_event
from shared.messaging import outbox
from shared.messaging.claims import claim_row

# Rows of ``emit_many`` written per statement: a run never holds more than this many.
CHUNK = 5000


class UnitOfWork:
    """A session plus ``emit`` and ``emit_many``, the only ways an event is made: each
    puts events in the outbox of the same transaction, every payload checked against
    its contract. Emitted events are written in one bulk insert just before the
    commit, not as an ORM object each."""

    def __init__(self, session: Session, outbox_model, producer: str, idempotency_model=None):
        self.session = session
        self._outbox = outbox_model
        self._idempotency = idempotency_model
        self.producer = producer
        self._pending: list[dict] = []
        self._rows: dict = {}

    def emit(self, event_type: str, payload: dict, version: int = 1) -> Event:
        """One event, written with the others before the commit."""
        event = make_event(event_type, payload, producer=self.producer, version=version)
        self._pending.append(outbox.row_of(event, clock.now()))
        return event

    def emit_many(self, event_type: str, payloads: Iterable[dict], version: int = 1) -> int:
        """One event per payload, all occurring now, written at once in statements of
        ``CHUNK`` rows as ``payloads`` is read (a run too large to hold may stream
        them); returns how many."""
        rows = outbox.rows(
            outbox.Origin.current(self.producer), event_type, payloads, clock.now(), version=version
        )
        count = 0
        while chunk := list(islice(rows, CHUNK)):
            self._insert(self._outbox, chunk)
            count += len(chunk)
        return count

    def add_row(self, model, row: dict) -> None:
        """Insert ``row`` into ``model``'s table with the others of its kind, in one
        statement before the commit: for append-only rows nothing reads back in the
        same unit of work (timelines, logs), far cheaper than an ORM object each."""
        self._rows.setdefault(model, []).append(row)

    def write_events(self) -> None:
        """Write what was deferred: the request's Idempotency-Key claim, appended
        rows, then the outbox; on PostgreSQL as one pipeline (one round trip where
        there was one a statement; a failure, a claim taken meanwhile say, is raised
        as SQLAlchemy's exception as before)."""
        with bulk_writes.pipelined(self.session.connection()):
            claim = context.idempotency_claim.get()
            if claim is not None and self._idempotency is not None:
                # Claimed in the transaction of the change itself; once per request.
                self._insert(self._idempotency, [claim_row(claim)])
                context.idempotency_claim.set(None)
            for model, rows in self._rows.items():
                self._insert(model, rows)
            self._rows = {}
            if self._pending:
                rows, self._pending = self._pending, []
                self._insert(self._outbox, rows)

    def _insert(self, model, rows: list[dict]) -> None:
        # A Core executemany in the session's transaction: the ORM's bulk path
        # would first autoflush and then process every row again. Inline: nothing
        # reads a generated id back, so a single row's insert asks PostgreSQL for no
        # RETURNING (a result the pipeline above would have to wait for).
        self.session.connection().execute(_inline_insert(model.__table__), rows)


@cache
def _inline_insert(table):
    return insert(table).inline()


class UnitOfWorkFactory:
    """``with uow() as work:`` commits on success, rolls back on any error."""

    def __init__(self, db: Database, outbox_model, producer: str, idempotency_model=None):
        self.db = db
        self.outbox_model = outbox_model
        self.producer = producer
        self.idempotency_model = idempotency_model

    def __call__(self):
        return _Scope(self)

    def reader(self):
        """A read-only session (no events can be emitted from it)."""
        return self.db.reader()


class _Scope:
    def __init__(self, factory: UnitOfWorkFactory):
        self._factory = factory
        self._cm: Any = None
        self._work: UnitOfWork | None = None

    def __enter__(self) -> UnitOfWork:
        self._cm = self._factory.db.transaction()
        session = self._cm.__enter__()
        self._work = UnitOfWork(
            session,
            self._factory.outbox_model,
            self._factory.producer,
            self._factory.idempotency_model,
        )
        return self._work

    def __exit__(self, *exc):
        if exc[0] is None:
            assert self._work is not None  # set by __enter__
            try:
                self._work.write_events()
            except BaseException as error:
                self._cm.__exit__(type(error), error, error.__traceback__)
                raise
        return self._cm.__exit__(*exc)
