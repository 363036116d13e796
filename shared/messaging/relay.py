"""The relay: moves committed outbox rows to the broker, never losing one.

Each round claims a batch of pending rows, publishes them all with confirms and
marks sent only those the broker confirmed. A crash before the mark leaves the
rows pending and they are published again (consumers' inboxes absorb the
duplicate); a broker outage leaves them pending until it is back. On PostgreSQL
the claim is ``FOR UPDATE SKIP LOCKED``, so several relays can share one outbox;
on SQLite one relay per service is the rule, and the claim takes no lock while
publishing so API writers are never held up by the broker.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import pika
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import OperationalError

from shared.clock import utcnow
from shared.db import Database
from shared.messaging import brokers, topology
from shared.messaging.publisher import ConfirmingPublisher, Message, PublishError
from shared.metrics import metrics_for

log = logging.getLogger(__name__)

# How often an idle relay asks the database whether anything was committed, how
# often it drives the broker connection meanwhile, and how long it goes without
# looking at the outbox when nothing was committed (rows waiting for a retry).
WATCH_TICK = 0.004
SERVICE_SECONDS = 0.1
QUIET_LOOK_SECONDS = 1.0


class Relay:
    def __init__(
        self,
        service: str,
        db: Database,
        outbox_model,
        amqp_url: str,
        names: topology.Names,
        batch_size: int = 500,
        poll_seconds: float = 0.02,
        retention: timedelta = timedelta(days=7),
    ):
        self.service = service
        self.db = db
        self.outbox = outbox_model
        self.amqp_url = amqp_url
        self.names = names
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.retention = retention
        self.metrics = metrics_for(service)
        self.publisher: ConfirmingPublisher | None = None
        self._last_purge = utcnow()
        self._watch = db.change_watch()
        # Built once, and run as Core on the transaction's connection: an idle relay
        # on SQLite looks after every commit anyone makes, and at a trickle every
        # round of one event paid the ORM's execution path for both statements.
        self._pending_query = (
            select(
                outbox_model.id,
                outbox_model.event_id,
                outbox_model.event_type,
                outbox_model.routing_key,
                outbox_model.body,
                outbox_model.attempts,
            )
            .where(outbox_model.sent_at.is_(None), outbox_model.available_at <= bindparam("now"))
            .order_by(outbox_model.id)
            .limit(batch_size)
        )
        self._claim_query = self._pending_query.with_for_update(skip_locked=True)
        table = outbox_model.__table__
        self._mark_sent = (
            update(table)
            .where(table.c.id.in_(bindparam("ids", expanding=True)))
            .values(sent_at=bindparam("now"))
        )

    @property
    def ready(self) -> bool:
        return self.publisher is not None and self.publisher.is_open

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                self._connect()
                backoff = 0.5
                idle = self.poll_seconds
                while not stop.is_set():
                    if self.relay_once():
                        idle = self.poll_seconds
                        continue
                    # Poll fast while events flow, slower (up to 5x) while nothing does;
                    # where the database says when it changed, wake as soon as it does.
                    self._wait(idle, stop)
                    idle = min(idle * 1.25, self.poll_seconds * 5)
                    self._maybe_purge()
            except (PublishError, pika.exceptions.AMQPError, OSError, OperationalError) as exc:
                # Broker or database gone: rows stay pending until both are back.
                log.warning("relay interrupted, retrying in %.1fs: %r", backoff, exc)
                self._disconnect()
                stop.wait(backoff)
                backoff = min(backoff * 2, 15.0)
        self._disconnect()
        self._watch.close()

    def _wait(self, seconds: float, stop: threading.Event) -> None:
        """Wait for the next look at the outbox, servicing the broker connection.

        Where the database says when anyone committed, wait for that (looking every
        few milliseconds, a sleep and a pragma each), and look anyway once a second
        for rows whose retry time has come; elsewhere, wait ``seconds``."""
        assert self.publisher is not None  # connected before the first wait
        if not self._watch.precise:
            self.publisher.idle(seconds)
            return
        now = time.monotonic()
        deadline, service = now + QUIET_LOOK_SECONDS, now + SERVICE_SECONDS
        while not stop.wait(WATCH_TICK) and not self._watch.changed():
            now = time.monotonic()
            if now >= deadline:
                break
            if now >= service:  # heartbeats, and a broker that closed on us
                self.publisher.idle(0)
                service = now + SERVICE_SECONDS
        self.publisher.idle(0)

    def _connect(self) -> None:
        conn = brokers.connect(self.amqp_url)
        try:
            topology.declare(conn.channel(), self.names)
        finally:
            conn.close()
        self.publisher = ConfirmingPublisher(self.amqp_url, self.names.exchange)
        self.publisher.connect()
        log.info("relay connected to the broker")

    def _disconnect(self) -> None:
        if self.publisher is not None:
            self.publisher.close()
            self.publisher = None

    def relay_once(self) -> int:
        """Publish one batch; return how many rows it held (0: nothing pending)."""
        if self.db.dialect == "postgresql":
            with self.db.engine.begin() as conn:
                rows = conn.execute(self._claim_query, {"now": utcnow()}).all()
                if rows:
                    self._mark(conn, rows, *self._publish(rows))
                return len(rows)
        with self.db.connection() as conn:  # one statement, no transaction, no session
            rows = conn.execute(self._pending_query, {"now": utcnow()}).all()
        if rows:
            outcome = self._publish(rows)
            with self.db.engine.begin() as conn:
                self._mark(conn, rows, *outcome)
        return len(rows)

    def _publish(self, rows):
        assert self.publisher is not None  # connected before the first batch
        return self.publisher.publish_batch(
            Message(row.id, row.event_id, row.routing_key, row.body.encode(), row.event_type)
            for row in rows
        )

    def _mark(self, conn, rows, confirmed, failed) -> None:
        by_id = {row.id: row for row in rows}
        now = utcnow()
        if confirmed:
            conn.execute(self._mark_sent, {"ids": list(confirmed), "now": now})
        for row_id in failed:
            row = by_id[row_id]
            delay = timedelta(seconds=min(2**row.attempts, 300))
            conn.execute(
                update(self.outbox)
                .where(self.outbox.id == row_id)
                .values(
                    attempts=row.attempts + 1,
                    available_at=now + delay,
                    last_error="nacked or returned as unroutable by the broker",
                )
            )
            self.metrics.publish_failed.labels(row.event_type).inc()
            log.error("broker refused event %s (%s); will retry", row.event_id, row.routing_key)
        for row_id in confirmed:
            self.metrics.published.labels(by_id[row_id].event_type).inc()

    def _maybe_purge(self) -> None:
        """Sent rows are kept a while for inspection, then removed."""
        now = utcnow()
        if now - self._last_purge < timedelta(minutes=10):
            return
        self._last_purge = now
        with self.db.transaction() as session:
            session.execute(delete(self.outbox).where(self.outbox.sent_at < now - self.retention))
