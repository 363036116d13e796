"""The relay: moves committed outbox rows to the broker, never losing one.

Each round claims a batch of pending rows, publishes them all with confirms and
marks sent only those the broker confirmed. A crash before the mark leaves the
rows pending and they are published again (consumers' inboxes absorb the
duplicate); a broker outage leaves them pending until it is back. On PostgreSQL
the claim is ``FOR UPDATE SKIP LOCKED``, so several relays can share one outbox;
on SQLite one relay per service is the rule, and the claim takes no lock while
publishing so API writers are never held up by the broker.

On SQLite the mark does not wait for the write lock either: while a writer (an
API request) holds it, the relay keeps what the broker settled in memory, goes on
publishing the rows behind (leaving out those it holds) and marks everything it
holds in one transaction once the lock is free, or waits for it when it holds a
batch's worth, has held any for ``MARK_WITHIN`` seconds, or has nothing left to
publish. A crash meanwhile leaves those rows pending, as before the mark.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pika
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import OperationalError

from shared.clock import utcnow
from shared.db import Database, WriteLockBusy
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
# The longest a relay on SQLite holds rows the broker settled before it waits for
# the write lock to mark them.
MARK_WITHIN = 1.0


@dataclass(frozen=True)
class _Settled:
    """A published batch: the broker's verdict on its rows, not yet marked."""

    rows: list
    confirmed: list
    failed: list
    at: datetime  # when the broker had settled them all (their ``sent_at``)
    since: float  # the same, monotonic


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
        self._settled: list[_Settled] = []  # SQLite: published, not yet marked
        self._held: set = set()  # their row ids
        # Built once: an idle relay on SQLite looks after every commit anyone makes.
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
            .limit(bindparam("limit"))
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
                self._mark_settled(wait=True)
            except (PublishError, pika.exceptions.AMQPError, OSError, OperationalError) as exc:
                # Broker or database gone: rows stay pending until both are back, the
                # ones settled and not yet marked too (published again, as after a crash).
                log.warning("relay interrupted, retrying in %.1fs: %r", backoff, exc)
                self._forget_settled()
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
        """Publish one batch; return how many rows it held (0: nothing pending, and
        everything published is marked)."""
        if self.db.dialect == "postgresql":
            with self.db.transaction() as session:
                rows = self._pending(session, lock=True)
                if rows:
                    confirmed, failed = self._publish(rows)
                    self._mark(session, [_Settled(rows, confirmed, failed, utcnow(), 0.0)])
                return len(rows)
        # One statement, no transaction, no session; the rows held for marking are
        # still pending, so as many more are read and left out.
        with self.db.connection() as conn:
            rows = conn.execute(
                self._pending_query,
                {"now": utcnow(), "limit": self.batch_size + len(self._held)},
            ).all()
        if self._held:
            rows = [row for row in rows if row.id not in self._held][: self.batch_size]
        if rows:
            confirmed, failed = self._publish(rows)
            self._settled.append(_Settled(rows, confirmed, failed, utcnow(), time.monotonic()))
            self._held.update(row.id for row in rows)
        self._mark_settled(
            wait=not rows
            or len(self._held) >= self.batch_size
            or time.monotonic() - self._settled[0].since >= MARK_WITHIN
        )
        return len(rows)

    def _mark_settled(self, wait: bool) -> None:
        """Mark what the broker settled, in one transaction; unless ``wait``, only if
        no other connection holds the write lock (else they stay held)."""
        if not self._settled:
            return
        try:
            with self.db.transaction(wait=wait) as session:
                self._mark(session, self._settled)
        except WriteLockBusy:
            return
        self._forget_settled()

    def _forget_settled(self) -> None:
        self._settled, self._held = [], set()

    def _pending(self, session, lock: bool):
        query = self._pending_query
        if lock:
            query = query.with_for_update(skip_locked=True)
        return session.execute(query, {"now": utcnow(), "limit": self.batch_size}).all()

    def _publish(self, rows):
        assert self.publisher is not None  # connected before the first batch
        return self.publisher.publish_batch(
            Message(row.id, row.event_id, row.routing_key, row.body.encode(), row.event_type)
            for row in rows
        )

    def _mark(self, session, batches: list[_Settled]) -> None:
        for batch in batches:
            self._mark_batch(session, batch)

    def _mark_batch(self, session, batch: _Settled) -> None:
        by_id = {row.id: row for row in batch.rows}
        now = batch.at
        if batch.confirmed:
            session.execute(
                update(self.outbox).where(self.outbox.id.in_(batch.confirmed)).values(sent_at=now)
            )
        for row_id in batch.failed:
            row = by_id[row_id]
            delay = timedelta(seconds=min(2**row.attempts, 300))
            session.execute(
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
        for row_id in batch.confirmed:
            self.metrics.published.labels(by_id[row_id].event_type).inc()

    def _maybe_purge(self) -> None:
        """Sent rows are kept a while for inspection, then removed."""
        now = utcnow()
        if now - self._last_purge < timedelta(minutes=10):
            return
        self._last_purge = now
        with self.db.transaction() as session:
            session.execute(delete(self.outbox).where(self.outbox.sent_at < now - self.retention))
