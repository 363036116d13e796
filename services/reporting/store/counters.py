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
from operator import itemgetter
from typing import NamedTuple
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


class Rollup(NamedTuple):
    """A table whose rows each sum rows of another: a row of the source table, keyed
    by at least ``keys``, adds its amounts to ``model``'s row of those key values
    (``monthly``: with its ``day`` as the first of its month), of ``names`` only if
    given. Summed in memory from the transaction's summed source rows just before
    they are written, so a roll-up costs a row per touched source row, not an
    ``add_to`` per entry."""

    model: type
    keys: tuple[str, ...]
    monthly: bool = False
    names: tuple[str, ...] = ()


def add_to(session: Session, model, key: dict, amounts: dict, rollups: tuple = ()) -> None:
    """Add ``amounts`` to the row ``key`` (inserting it if new), and so to the rows of
    ``rollups`` (``Rollup``s) it counts in."""
    stored = _stored(model, tuple(amounts))
    add_stored(session, model, key, amounts if stored is None else stored(amounts), rollups)


def add_stored(session: Session, model, key: dict, amounts: dict, rollups: tuple = ()) -> None:
    """``add_to`` for ``amounts`` whose money is in stored units already (see
    ``in_stored_units``): an entry added to several tables is converted once."""
    pending = session.info.get("increments")
    if pending is None:
        pending = session.info["increments"] = {}
        sa_event.listen(session, "before_commit", _write_increments, once=True)
    shape = (model, tuple(key), tuple(amounts), rollups)
    rows = pending.get(shape)
    if rows is None:
        rows = pending[shape] = {}
    values = tuple(key.values())
    row = rows.get(values)
    if row is None:
        rows[values] = dict(amounts)
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
    for shape in list(pending):
        if shape[3]:
            _roll_up(pending, shape)
    shapes = list(pending)
    if locks_rows(session):  # tables in one order, whatever the window's first event
        shapes.sort(key=lambda shape: (shape[0].__tablename__, shape[1], shape[2]))
    # One round trip on PostgreSQL for the window's upserts, a dozen tables' worth.
    with bulk_writes.pipelined(session.connection()):
        for model, keys, names, rollups in shapes:
            write(session, model, keys, names, pending[model, keys, names, rollups])


def _roll_up(pending: dict, shape: tuple) -> None:
    """Add the summed rows of ``shape`` to its roll-ups' rows among ``pending``."""
    _, keys, names, rollups = shape
    rows = pending[shape]
    for rollup in rollups:
        taken = rollup.names or names
        target = pending.setdefault((rollup.model, rollup.keys, taken, ()), {})
        pick = itemgetter(*(keys.index(name) for name in rollup.keys))
        single = len(rollup.keys) == 1
        day = rollup.keys.index("day") if rollup.monthly else None
        for values, amounts in rows.items():
            if rollup.names:
                amounts = {name: amounts[name] for name in taken}
            key = (pick(values),) if single else pick(values)
            if day is not None:
                key = (*key[:day], month_of(key[day]), *key[day + 1 :])
            row = target.get(key)
            if row is None:
                target[key] = dict(amounts)
            else:
                for name, value in amounts.items():
                    row[name] += value


def write(session: Session, model, keys: tuple, names: tuple, rows: dict) -> None:
    """Add each row's amounts (``{key values: {name: amount}}``, money in stored units,
    see ``in_stored_units``) to the table now.

    On a database that locks rows (PostgreSQL), rows are written in key order: two
    consumers' windows touching the same rows then wait for each other instead of
    deadlocking. SQLite has one writer at a time and keeps the order they came in."""
    if not rows:
        return
    items = rows.items()
    if locks_rows(session):
        items = sorted(items, key=lambda item: key_order(item[0]))
    connection = session.connection()
    dialect = connection.dialect
    statement = _upsert(dialect.name, model, keys, names)
    driver_keys = _driver_keys(dialect, model, keys, names)
    if driver_keys is None:
        bulk_writes.run(
            connection,
            statement,
            keys + names,
            [key + tuple(map(amounts.__getitem__, names)) for key, amounts in items],
        )
        return
    ready = bulk_writes.rows_for(connection.engine.url.drivername, statement, keys + names)
    driver_key = driver_keys()
    made = [driver_key(key) + tuple(map(amounts.__getitem__, names)) for key, amounts in items]
    bulk_writes.write(connection, ready.sql, map(ready.arranged, made) if ready.arranges else made)


class _Converted(dict):
    """Values converted for the driver by ``process``, each distinct one once."""

    def __init__(self, process):
        super().__init__()
        self.process = process

    def __missing__(self, value):
        out = self[value] = self.process(value)
        return out


@cache
def _driver_keys(dialect, model, keys: tuple, names: tuple):
    """For an upsert of ``write``'s: a maker of a function giving a row's key values
    as the driver takes them (as ``bulk_writes.Rows`` converts them), converting each distinct
    value of a column once per write (a window's rows share a few hundred days among
    thousands of rows), or None where an amount needs converting too (``write`` then
    leaves every value to ``bulk_writes.run``). Amounts are whole numbers: money binds
    as the integer it is stored as (``_upsert``)."""
    table = model.__table__

    def processor(type_):
        return type_.dialect_impl(dialect).bind_processor(dialect)

    if any(
        processor(BigInteger() if isinstance(table.c[name].type, Money) else table.c[name].type)
        for name in names
    ):
        return None
    converting = [
        (at, process)
        for at, name in enumerate(keys)
        if (process := processor(table.c[name].type)) is not None
    ]
    if not converting:
        return lambda: lambda key: key
    if len(converting) == 1:
        [(at, process)] = converting

        def one():
            seen = _Converted(process)
            return lambda key: (*key[:at], seen[key[at]], *key[at + 1 :])

        return one

    def several():
        seen = [(at, _Converted(process)) for at, process in converting]

        def convert(key):
            values = list(key)
            for at, converted in seen:
                values[at] = converted[values[at]]
            return tuple(values)

        return convert

    return several


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
