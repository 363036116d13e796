"""Counters and sums kept in the database: incremented by upsert, never
read-modify-written, so concurrent consumers cannot lose an update.

Increments are summed in memory for the transaction and written just before it
commits, one upsert per distinct row: a window of 500 completed calls touches a
handful of (day, outcome) rows, so it writes a handful of times, not 500. Money is
summed as it is stored, whole ten-thousandths (``shared.types.Money``), each
entry rounded once when added: exact, the same whatever window an entry comes
in, and no ``Decimal`` arithmetic or conversion per written row.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, bindparam
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared import bulk_writes
from shared.types import Money

INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_to(session: Session, model, key: dict, amounts: dict, expand=None) -> None:
    """Add ``amounts`` to the row ``key`` (inserting it if new).

    ``expand``, if given, turns the transaction's summed rows of this table into the
    rows to write, just before writing (a roll-up that one entry adds to in several
    rows is summed once per entry, then spread)."""
    pending = session.info.get("increments")
    if pending is None:
        pending = session.info["increments"] = {}
        sa_event.listen(session, "before_commit", _write_increments, once=True)
    shape = (model, tuple(key), tuple(amounts), expand)
    rows = pending.get(shape)
    if rows is None:
        rows = pending[shape] = {}
    amounts = in_stored_units(model, amounts)
    values = tuple(key.values())
    row = rows.get(values)
    if row is None:
        rows[values] = amounts
        return
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
    pending = session.info.pop("increments", {})
    shapes = list(pending)
    if locks_rows(session):  # tables in one order, whatever the window's first event
        shapes.sort(key=lambda shape: (shape[0].__tablename__, shape[1], shape[2]))
    for shape in shapes:
        model, keys, names, expand = shape
        rows = pending[shape]
        write(session, model, keys, names, rows if expand is None else expand(keys, rows))


def write(session: Session, model, keys: tuple, names: tuple, rows: dict) -> None:
    """Add each row's amounts (``{key values: {name: amount}}``, money in stored units,
    see ``in_stored_units``) to the table now.

    On a database that locks rows (PostgreSQL), rows are written in key order: two
    consumers' windows touching the same rows then wait for each other instead of
    deadlocking. SQLite has one writer at a time and keeps the order they came in."""
    items = rows.items()
    if locks_rows(session):
        items = sorted(items, key=lambda item: key_order(item[0]))
    if rows:
        bulk_writes.run(
            session.connection(),
            _upsert(session.get_bind().dialect.name, model, keys, names),
            keys + names,
            [key + tuple(map(amounts.__getitem__, names)) for key, amounts in items],
        )


def locks_rows(session: Session) -> bool:
    """Whether concurrent writers lock rows (and so must take them in one order)."""
    return session.get_bind().dialect.name != "sqlite"


def key_order(values: tuple) -> tuple:
    """Key values in an order defined for every key, NULLs (a staff call's partner)
    last."""
    return tuple((value is None, value) for value in values)


def in_stored_units(model, amounts: dict) -> dict:
    """``amounts`` with the money among them as ``add_to`` sums it and ``write`` takes
    it (for a caller that sums entries itself)."""
    stored = _stored(model, tuple(amounts))
    return dict(amounts) if stored is None else stored(amounts)


@cache
def _stored(model, names: tuple):
    """A function giving ``amounts`` with their money in stored units, or None when
    none of ``names`` is a money column of ``model``."""
    money = [name for name in names if isinstance(model.__table__.c[name].type, Money)]
    if not money:
        return None
    to_stored = Money().process_bind_param

    def convert(amounts: dict) -> dict:
        out = dict(amounts)
        for name in money:
            out[name] = to_stored(out[name], None)
        return out

    return convert


@cache
def _upsert(dialect: str, model, keys: tuple, amounts: tuple):
    """Built once per shape: building a statement per event costs more than running it.
    Money binds as the whole number it is stored as, not through ``Money``."""
    table = model.__table__
    binds = {
        name: bindparam(name, type_=BigInteger)
        if isinstance(table.c[name].type, Money)
        else bindparam(name)
        for name in keys + amounts
    }
    insert = INSERTS[dialect](model).values(binds)
    return insert.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + insert.excluded[name] for name in amounts},
    )
