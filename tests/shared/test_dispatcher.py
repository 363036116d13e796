"""The dispatcher on its own (no broker), on both databases: a window applied in one
transaction, each event's handlers run in its correlation, duplicates skipped (also
one a concurrent consumer applied meanwhile), a failure isolated; a trickle's inbox
rows and a backlog's (COPY on PostgreSQL) alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from shared import context
from shared.config import Settings
from shared.entrypoints import build_dispatcher
from shared.events import make_event
from shared.messaging.dispatcher import PIPELINED_INBOX_ROWS
from tests.shared import messaging_app as m

SEEN: list = []


def record(work, event):
    SEEN.append(
        (
            event.event_id,
            context.correlation_id.get(),
            context.causation_id.get(),
            context.event_id.get(),
        )
    )
    if event.payload["notes"] == "poison":
        raise RuntimeError("this event always fails")
    work.emit(
        "followup.created",
        {
            "followup_id": f"f-{event.event_id}",
            "kind": "callback",
            "customer_id": "c1",
            "source_call_id": event.payload["call_id"],
            "created_at": event.occurred_at,
        },
    )


record.inbox_name = "tests.record"


def also(work, event):
    SEEN.append(("also", context.causation_id.get()))


@pytest.fixture
def dispatcher(database_url):
    yield from _dispatcher(database_url)


@pytest.fixture
def pg_dispatcher(postgres_database):
    """Consumers share a queue on PostgreSQL only (one per SQLite file)."""
    yield from _dispatcher(postgres_database)


def _dispatcher(url):
    SEEN.clear()
    db = m.make_db(url)
    settings = Settings.from_env(m.SERVICE, {"DEV_MODE": "1", "DATABASE_URL": url})
    yield build_dispatcher(settings, db, m.Outbox, m.Inbox, {"call.completed.v1": [record, also]})
    db.dispose()


def call(i: int, notes: str | None = None):
    token = context.correlation_id.set(f"corr-{i}")
    try:
        return make_event(
            "call.completed",
            {
                "call_id": f"call-{i}",
                "customer_id": "c1",
                "channel": "phone",
                "outcome": "reached",
                "completed_at": datetime.now(UTC),
                "notes": notes,
            },
            producer="calls",
        )
    finally:
        context.correlation_id.reset(token)


def rows(dispatcher, model) -> int:
    with dispatcher.uow.reader() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_every_handler_runs_in_its_events_context_and_emits_with_it(dispatcher):
    events = [call(i) for i in range(3)]
    assert dispatcher.dispatch_batch(events) == [True] * 3
    assert [s for s in SEEN if s[0] != "also"] == [
        (e.event_id, e.correlation_id, e.event_id, e.event_id) for e in events
    ]
    assert [s for s in SEEN if s[0] == "also"] == [("also", e.event_id) for e in events]
    assert (context.correlation_id.get(), context.causation_id.get()) == (None, None)
    with dispatcher.uow.reader() as session:
        bodies = [json.loads(b) for b in session.scalars(select(m.Outbox.body))]
    assert sorted((b["correlation_id"], b["causation_id"]) for b in bodies) == sorted(
        (e.correlation_id, e.event_id) for e in events
    )
    assert rows(dispatcher, m.Inbox) == 6  # two handlers, three events


def test_a_duplicate_in_a_later_window_changes_nothing(dispatcher):
    events = [call(i) for i in range(3)]
    dispatcher.dispatch_batch(events[:2])
    SEEN.clear()
    assert dispatcher.dispatch_batch(events) == [True] * 3
    assert [s[0] for s in SEEN if s[0] != "also"] == [events[2].event_id]
    assert (rows(dispatcher, m.Inbox), rows(dispatcher, m.Outbox)) == (6, 3)


def test_a_failing_event_fails_alone_and_leaves_no_context_behind(dispatcher):
    events = [call(0), call(1, notes="poison"), call(2)]
    results = dispatcher.dispatch_batch(events)
    assert results[0] is True and results[2] is True and isinstance(results[1], RuntimeError)
    assert (rows(dispatcher, m.Inbox), rows(dispatcher, m.Outbox)) == (4, 2)
    assert (context.correlation_id.get(), context.causation_id.get(), context.event_id.get()) == (
        None,
        None,
        None,
    )


@pytest.mark.postgres
@pytest.mark.parametrize("size", [3, PIPELINED_INBOX_ROWS + 5])
def test_an_event_another_consumer_applied_meanwhile_is_skipped_on_the_retry(
    pg_dispatcher, monkeypatch, size
):
    """Another consumer commits an event's inbox row after this window looked the
    inbox up: the window's commit fails on the key, and the events are applied
    again one by one, that event without effect (small windows write their inbox
    rows with the other deferred writes, large ones by COPY on PostgreSQL)."""
    dispatcher = pg_dispatcher
    events = [call(i) for i in range(size)]
    taken = events[1]
    real = dispatcher._already_applied

    def looked_up_before_the_other_consumer_committed(work, window):
        seen = real(work, window)
        if len(window) > 1:
            with dispatcher.uow.db.transaction() as other:
                other.add(
                    m.Inbox(
                        event_id=taken.event_id,
                        handler="tests.record",
                        event_type=taken.event_type,
                        processed_at=datetime.now(UTC),
                    )
                )
        return seen

    monkeypatch.setattr(
        dispatcher, "_already_applied", looked_up_before_the_other_consumer_committed
    )
    assert dispatcher.dispatch_batch(events) == [True] * size
    assert rows(dispatcher, m.Outbox) == size - 1  # the taken event's effect: the other's
    assert rows(dispatcher, m.Inbox) == 2 * size
