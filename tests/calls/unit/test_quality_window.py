"""A busy agent does not make each outcome cost more: a bulk upload reads the agent's
calls nearest its own, not its whole window (``quality.recent_calls``), and the rules
answer exactly as with the whole window; a single outcome's look-ups read the index
in order and stop."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import insert

from services.calls.calls import quality
from services.calls.calls.tables import Call

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _store(app, rows: list[dict]) -> None:
    with app.extensions["rapport"].db.transaction() as session:
        session.execute(
            insert(Call.__table__),
            [
                {
                    "customer_id": "c1",
                    "channel": "phone",
                    "due_at": NOW,
                    "status": "completed",
                    "priority": 1,
                    "created_at": NOW,
                    "outcome": "reached",
                    "kind": "planned",
                    "attempt": 0,
                    "for_role": "agent",
                    **row,
                }
                for row in rows
            ],
        )


def _history(rng: random.Random) -> tuple[list[dict], datetime]:
    """Agent ``a``'s completed calls, assigned or recorded unassigned, some dense
    (hundreds in minutes), some spread over hours; some without a duration, some
    longer than an hour; and another agent's calls beside them. With the time the
    dense calls begin."""
    rows = []
    dense_at = NOW + timedelta(minutes=rng.randrange(-180, 180))
    for _ in range(rng.choice((0, 30, 400))):
        rows.append(dense_at + timedelta(seconds=rng.uniform(0, 600)))
    for _ in range(rng.randrange(0, 400)):
        rows.append(NOW + timedelta(seconds=rng.uniform(-6 * 3600, 6 * 3600)))
    out = []
    for end in rows:
        assigned = rng.random() < 0.5
        out.append(
            {
                "id": str(uuid.uuid4()),
                "completed_at": end,
                "duration_seconds": rng.choice((0, None, 60, 120, 600, 5000)),
                "agent_id": "a" if assigned else rng.choice((None, "someone")),
                "completed_by": "b" if assigned else "a",
            }
        )
    return out, dense_at


def _upload(rng: random.Random, dense_at: datetime) -> list[tuple]:
    """(id, end, seconds) of an upload's calls: bunched or spread, in the agent's
    busiest minutes or anywhere."""
    centre = rng.choice(
        (
            dense_at + timedelta(minutes=rng.randrange(-5, 12)),
            NOW + timedelta(minutes=rng.randrange(-200, 200)),
        )
    )
    spread = rng.choice((60, 1800, 8 * 3600))
    return [
        (
            str(uuid.uuid4()),
            centre + timedelta(seconds=rng.uniform(0, spread)),
            rng.choice((0, 90, 120, 900, 4000)),
        )
        for _ in range(rng.randrange(1, 40))
    ]


def _answers(known: dict, items: list[tuple], ends: dict) -> list[tuple]:
    """Per call of the upload, in order: its rules, and the end of the call it overlaps."""
    out = []
    for call_id, end, seconds in items:
        call = SimpleNamespace(id=call_id, duration_seconds=seconds)
        hits = quality._held_hits(known, "a", call, end - timedelta(seconds=seconds), end)
        named = [ends[detail.split()[2]] for rule, detail in hits if rule == "overlap"]
        out.append(([rule for rule, _ in hits], named))
        ends[call_id] = end
    return out


def _bounds(items: list[tuple]) -> tuple:
    first = min(end for _, end, _ in items)
    last = max(end for _, end, _ in items) + timedelta(minutes=1)
    start = min(end - timedelta(seconds=seconds) for _, end, seconds in items)
    return first, last, start


@pytest.mark.parametrize("seed", range(40))
def test_the_nearest_calls_answer_as_the_whole_window_does(app, monkeypatch, seed):
    rng = random.Random(seed)
    history, dense_at = _history(rng)
    _store(app, history)
    # Few read from each end, so that the reads often do not settle a call.
    monkeypatch.setattr(quality, "NEAREST", 7)
    quality._nearest_statement.cache_clear()
    db = app.extensions["rapport"].db
    try:
        for _ in range(10):
            items = _upload(rng, dense_at)
            first, last, start = _bounds(items)
            ends = {row["id"]: row["completed_at"] for row in history}
            with db.reader() as session:
                window = quality._recent(
                    session, "a", first - timedelta(hours=1), last + timedelta(hours=3)
                )
                whole = _answers({"a": quality._Sorted(window)}, items, dict(ends))
                nearest = _answers(
                    quality.recent_calls(session, {"a"}, first, last, start), items, dict(ends)
                )
            assert nearest == whole
    finally:
        quality._nearest_statement.cache_clear()


def test_a_busy_agents_upload_reads_only_the_calls_nearest_it(app, monkeypatch):
    """An integration recording everything as one client: 1,000 calls in the last
    minutes. An upload of 200 more, now, reads at most ``NEAREST`` of each kind from
    each end, never the whole window, and each call still overlaps and is past the
    hourly limit."""
    rng = random.Random(7)
    history = [
        {
            "id": str(uuid.uuid4()),
            "completed_at": NOW - timedelta(seconds=rng.uniform(1, 300)),
            "duration_seconds": 120,
            "agent_id": None,
            "completed_by": "a",
        }
        for _ in range(1000)
    ]
    _store(app, history)
    items = [(str(uuid.uuid4()), NOW + timedelta(milliseconds=i), 120) for i in range(200)]
    first, last, start = _bounds(items)

    def whole_window(*args):
        raise AssertionError("read the whole window")

    monkeypatch.setattr(quality, "_recent", whole_window)
    with app.extensions["rapport"].db.reader() as session:
        known = quality.recent_calls(session, {"a"}, first, last, start)
        assert len(known["a"].calls) <= 2 * quality.NEAREST
        answers = _answers(known, items, {row["id"]: row["completed_at"] for row in history})
    assert {tuple(rules) for rules, _ in answers} == {("overlap", "rate")}


def test_a_long_call_is_held_to_calls_that_ended_before_the_upload_began(app, monkeypatch):
    """The first call a long call overlaps may have ended before the upload's first
    call and before the agent's busiest minutes: it is read from where the upload's
    earliest call started, even when the hour is past its limit (which settles the
    count without reading further back)."""
    monkeypatch.setattr(quality, "NEAREST", 40)
    quality._nearest_statement.cache_clear()
    early = str(uuid.uuid4())
    history = [
        {"id": early, "completed_at": NOW - timedelta(minutes=50), "duration_seconds": 60},
        *(
            {
                "id": str(uuid.uuid4()),
                "completed_at": NOW - timedelta(seconds=60 - i),
                "duration_seconds": 60,
            }
            for i in range(60)
        ),
    ]
    _store(app, [{"agent_id": None, "completed_by": "a", **row} for row in history])
    items = [(str(uuid.uuid4()), NOW + timedelta(seconds=i), 60) for i in range(35)]
    items.append((str(uuid.uuid4()), NOW + timedelta(seconds=40), 4000))
    first, last, start = _bounds(items)
    ends = {row["id"]: row["completed_at"] for row in history}
    try:
        with app.extensions["rapport"].db.reader() as session:
            known = quality.recent_calls(session, {"a"}, first, last, start)
            monkeypatch.setattr(quality, "_recent", None)  # settled by what was read
            answers = _answers(known, items, dict(ends))
    finally:
        quality._nearest_statement.cache_clear()
    assert answers[-1] == (["overlap", "rate"], [ends[early]])


def test_a_single_outcomes_look_ups_read_the_index_in_order_and_stop(app):
    """Each look-up a single outcome makes (an overlap page in (end, id) order, the
    count of the hour up to the limit) is served in the index's order: no sort of
    every call of the agent after the call's start, which grew with a busy agent."""
    overlap, count = quality._statements()
    params = {
        "agent": "a",
        "call_id": "x",
        "start": NOW,
        "low": NOW,
        "end": NOW,
        "high": NOW,
        "offset": 0,
    }
    with app.extensions["rapport"].db.reader() as session:
        conn = session.connection()
        for statement in (*overlap, *count):
            compiled = statement.compile(dialect=conn.dialect)
            values = {**{k: b.effective_value for k, b in compiled.binds.items()}, **params}
            plan = conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled.string}",
                tuple(
                    str(values[name]) if isinstance(values[name], datetime) else values[name]
                    for name in compiled.positiontup
                ),
            ).all()
            details = " / ".join(row[3] for row in plan)
            assert "USING INDEX ix_calls_" in details and "TEMP B-TREE" not in details, details
