"""A unit of work the database aborted as a deadlock victim (or a serialisation
failure) runs again; any other database error is raised at once."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from shared.db import retry_transient


class _Orig(Exception):
    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _failing(sqlstate, times, error=OperationalError):
    calls = []

    @retry_transient
    def work():
        calls.append(1)
        if len(calls) <= times:
            raise error("UPDATE ...", {}, _Orig(sqlstate))
        return "done"

    return work, calls


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_victim_or_serialisation_failure_is_run_again(sqlstate):
    work, calls = _failing(sqlstate, 2)
    assert work() == "done" and len(calls) == 3


def test_it_gives_up_after_its_attempts():
    work, calls = _failing("40P01", 10)
    with pytest.raises(OperationalError):
        work()
    assert len(calls) == 4


def test_any_other_database_error_is_raised_at_once():
    work, calls = _failing("23505", 1, IntegrityError)
    with pytest.raises(IntegrityError):
        work()
    assert len(calls) == 1
