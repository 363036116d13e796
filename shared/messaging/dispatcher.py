"""The dispatcher: exactly-once effects for events that arrive at least once.

A batch of events is handled in one transaction, each handler recording
``(event_id, handler)`` in the inbox beside its effect, so a redelivered event
finds its inbox rows and is applied without effect. Should one event of a batch
fail, the batch is rolled back and every event is applied again in a transaction
of its own, so that it fails alone. Subscriptions map a routing key, or ``#`` for
every event, to handlers; the events a handler emits are correlated with, and
caused by, the one it handles. Acks, retries and dead-lettering are the
consumer's (``shared.messaging.consumer``).

Several consumers may share a queue (replicas, on PostgreSQL), and two windows
applied at once may concern the same rows. A service whose handlers read and
change a row per event gives a ``prepare``: called first in each transaction with
the window's events, it locks the rows they concern in one order (sorted keys),
so two windows wait for each other instead of losing an update or deadlocking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import bindparam, select

from shared import bulk_writes, context
from shared.clock import utcnow
from shared.events import Event
from shared.messaging.unit_of_work import UnitOfWork, UnitOfWorkFactory
from shared.metrics import metrics_for

Handler = Callable[[UnitOfWork, Event], None]
Prepare = Callable[[UnitOfWork, Sequence[Event]], None]
WILDCARD = "#"
_INBOX_KEYS = ("event_id", "handler", "event_type", "processed_at")
# Inbox rows of a window written with the unit of work's deferred inserts rather
# than by COPY (PostgreSQL): a trickle's windows hold one to a few.
PIPELINED_INBOX_ROWS = 32


def handler_name(handler: Handler) -> str:
    return getattr(handler, "inbox_name", None) or f"{handler.__module__}.{handler.__qualname__}"


class Dispatcher:
    """Runs an event through its handlers, once per (event, handler)."""

    def __init__(
        self,
        service: str,
        uow: UnitOfWorkFactory,
        inbox_model,
        subscriptions: Mapping[str, Sequence[Handler]],
        prepare: Prepare | None = None,
    ):
        self.service = service
        self.prepare = prepare
        self.uow = uow
        self.inbox = inbox_model
        self.subscriptions = subscriptions
        self.metrics = metrics_for(service)
        # Built once: at a trickle every window of one event pays for the look-up.
        table = inbox_model.__table__
        self._applied_query = select(table.c.event_id, table.c.handler).where(
            table.c.event_id.in_(bindparam("ids", expanding=True))
        )

    def handlers_for(self, event: Event) -> list[Handler]:
        return [
            *self.subscriptions.get(event.routing_key, ()),
            *self.subscriptions.get(WILDCARD, ()),
        ]

    def dispatch(self, event: Event) -> bool:
        """Apply one event in a transaction of its own; False if nobody here handles
        its type; a handler's exception is raised."""
        [result] = self.dispatch_batch([event])
        if isinstance(result, Exception):
            raise result
        return result

    def dispatch_batch(self, events: Sequence[Event]) -> list:
        """Apply events; per event True (applied, or applied before), False (no
        handler here), or the exception that failed it.

        The whole batch is tried in one transaction: one inbox look-up, one commit,
        which is what lets a consumer keep up with a relay. If anything in it fails,
        it is rolled back and every event is applied again in a transaction of its
        own, so one bad event fails alone and the others still commit."""
        try:
            return self._apply(events)
        except Exception as exc:  # noqa: BLE001 - isolate the culprit below
            if len(events) == 1:
                return [exc]
        return [self._isolated(event) for event in events]

    def _isolated(self, event: Event):
        try:
            return self._apply([event])[0]
        except Exception as exc:  # noqa: BLE001 - reported per event
            return exc

    def _apply(self, events: Sequence[Event]) -> list[bool]:
        results, done, now = [], [], utcnow()
        with self.uow() as work:
            seen = self._already_applied(work, events)
            if self.prepare is not None:
                self.prepare(work, events)
            for event in events:
                handlers = self.handlers_for(event)
                results.append(bool(handlers))
                tokens = _enter_context(event)
                try:
                    for handler in handlers:
                        key = (event.event_id, handler_name(handler))
                        if key in seen:
                            self.metrics.duplicate.labels(event.event_type).inc()
                            continue
                        seen.add(key)
                        handler(work, event)
                        done.append((*key, event.event_type))
                finally:
                    _leave_context(tokens)
            if done:
                # A concurrent consumer that applied the same event first makes this
                # fail on the primary key: the batch is retried and then skips it.
                self._record(work, done, now)
        return results

    def _record(self, work: UnitOfWork, done: list, now) -> None:
        """The inbox rows of what was applied, as tuples, the window's one time
        converted for the driver once rather than once a row. On PostgreSQL a
        trickle's few rows go with the unit of work's other deferred writes, in its
        pipeline at the commit: ``COPY`` pays off for a backlog's window, but for a
        handful of rows it was two round trips of its own."""
        connection = work.session.connection()
        if connection.dialect.name == "postgresql" and len(done) <= PIPELINED_INBOX_ROWS:
            for event_id, handler, event_type in done:
                work.add_row(
                    self.inbox,
                    {
                        "event_id": event_id,
                        "handler": handler,
                        "event_type": event_type,
                        "processed_at": now,
                    },
                )
            return
        table = self.inbox.__table__
        at = bulk_writes.driver_value(connection, table.c.processed_at, now)
        rows = [(*row, at) for row in done]
        bulk_writes.insert_prepared(connection, table, _INBOX_KEYS, rows)

    def _already_applied(self, work: UnitOfWork, events: Sequence[Event]) -> set:
        ids = list({event.event_id for event in events})
        # Core on the session's connection: the ORM's execution path cost more than
        # the look-up itself, and at a trickle every window of one event pays it.
        rows = work.session.connection().execute(self._applied_query, {"ids": ids})
        return {(event_id, handler) for event_id, handler in rows}


def _enter_context(event: Event) -> tuple:
    """Events a handler emits are correlated with, and caused by, this one. Set once
    per event for all its handlers, without a generator context manager: a window
    of a thousand events paid for one of those per handler."""
    return (
        context.correlation_id.set(event.correlation_id),
        context.causation_id.set(event.event_id),
        context.event_id.set(event.event_id),
    )


def _leave_context(tokens: tuple) -> None:
    correlation, causation, event_id = tokens
    context.event_id.reset(event_id)
    context.causation_id.reset(causation)
    context.correlation_id.reset(correlation)
