"""Counters and sums kept in the database: incremented by upsert, never
read-modify-written, so concurrent consumers cannot lose an update.

Increments are summed in memory for the transaction and written just before it
commits, one upsert per distinct row: a window of 500 completed calls touches a
handful of (day, outcome) rows, so it writes a handful of times, not 500.
"""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.reporting import bulk

INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_to(session: Session, model, key: dict, amounts: dict) -> None:
    """Add ``amounts`` to the row ``key`` (inserting it if new)."""
    pending = session.info.get("increments")
    if pending is None:
        pending = session.info["increments"] = {}
        sa_event.listen(session, "before_commit", _write_increments, once=True)
    shape = (model, tuple(key), tuple(amounts))
    row = pending.setdefault(shape, {}).setdefault(tuple(key.values()), dict.fromkeys(amounts, 0))
    for name, value in amounts.items():
        row[name] += value


def flush(session: Session) -> None:
    """Write the pending increments now (a check that reads before committing)."""
    _write_increments(session)
    session.flush()


def flush_rows(session: Session) -> None:
    """Write the pending increments now, before a statement that reads them."""
    _write_increments(session)


def _write_increments(session: Session) -> None:
    for (model, keys, names), rows in session.info.pop("increments", {}).items():
        write(session, model, keys, names, rows)


def write(session: Session, model, keys: tuple, names: tuple, rows: dict) -> None:
    """Add each row's amounts (``{key values: {name: amount}}``) to the table now."""
    bulk.run(session, _upsert(session.get_bind().dialect.name, model, keys, names), model,
             [{**dict(zip(keys, key)), **amounts} for key, amounts in rows.items()])


@lru_cache(maxsize=None)
def _upsert(dialect: str, model, keys: tuple, amounts: tuple):
    """Built once per shape: building a statement per event costs more than running it."""
    table = model.__table__
    insert = INSERTS[dialect](model).values({name: bindparam(name) for name in keys + amounts})
    return insert.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + insert.excluded[name] for name in amounts})
