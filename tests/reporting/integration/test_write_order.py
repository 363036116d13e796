"""Where rows are locked (PostgreSQL), a window writes its counters table by table
and row by row in one order, whatever order its events came in: two consumers'
windows touching the same rows then queue behind each other instead of
deadlocking. On SQLite (one writer at a time) the order is left as it came."""

from datetime import date

import pytest

from services.reporting.calls.tables import ActivityDay, CallState, OutcomeDay
from services.reporting.store import counters, locked_rows
from shared import bulk_writes

pytestmark = pytest.mark.integration


def _writes(monkeypatch, dispatcher):
    """(table, each row's first key value as text) of every statement handed to the
    driver, in order (counters and blind writes lead with the day or the call id)."""
    seen = []
    real = bulk_writes.write

    def write(connection, sql, rows):
        rows = list(rows)
        seen.append((sql.split()[2], [(str(row[0]),) for row in rows]))
        return real(connection, sql, rows)

    monkeypatch.setattr(bulk_writes, "write", write)
    with dispatcher.uow() as work:
        session = work.session
        for day in (date(2025, 3, 9), date(2025, 3, 1)):  # newest first
            counters.add_to(session, OutcomeDay, {"day": day, "outcome": "reached"}, {"calls": 1})
            counters.add_to(session, ActivityDay, {"day": day}, {"completed": 1})
        for call_id in ("c9", "c1"):
            locked_rows.set_later(
                session,
                CallState,
                {"call_id": call_id},
                {"customer_id": "x"},
                {"status": "completed", "rank": 9},
            )
    return seen


def test_counters_and_blind_writes_go_in_one_order_where_rows_are_locked(
    postgres_database, make_dispatcher, monkeypatch
):
    seen = _writes(monkeypatch, make_dispatcher(postgres_database))
    assert [table for table, _ in seen] == ["activity_day", "outcome_day", "call_state"]
    assert seen[0][1] == [("2025-03-01",), ("2025-03-09",)]
    assert seen[2][1] == [("c1",), ("c9",)]


def test_sqlite_keeps_the_order_they_came_in(sqlite_url, make_dispatcher, monkeypatch):
    seen = _writes(monkeypatch, make_dispatcher(sqlite_url))
    assert [table for table, _ in seen] == ["outcome_day", "activity_day", "call_state"]
    assert seen[1][1] == [("2025-03-09",), ("2025-03-01",)]
    assert seen[2][1] == [("c9",), ("c1",)]


def test_a_null_key_value_sorts_last():
    assert sorted([("a", None), ("a", "p"), ("A", None)], key=counters.key_order) == [
        ("A", None),
        ("a", "p"),
        ("a", None),
    ]
