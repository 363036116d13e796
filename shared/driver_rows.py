"""Inserts whose rows are made ready for the database driver where they are built.

A customer import writes five rows a customer, and SQLAlchemy's own work per row of an
executemany (the columns' bind processors: JSON encoding, time zones, booleans,
dates) costs more than the database's insert. ``DriverInsert`` runs the same
processors where the rows are built (the import's worker processes) and compiles
the statement there; the importing process only hands statement and tuples to the
driver (``write``), in its own transaction: one ``executemany``, or on PostgreSQL
one ``COPY`` (a statement a row costs the server more than the insert itself).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter

import orjson

from sqlalchemy import JSON, Table, insert
from sqlalchemy.engine import Dialect, make_url

# Positional forms of each driver's parameter style: tuples pickle and bind
# cheaper than dicts.
_POSITIONAL = {"pyformat": "format", "named": "qmark"}


def dialect_for(drivername: str) -> Dialect:
    """A dialect like the engine's (``engine.url.drivername``), positional, unconnected."""
    cls = make_url(f"{drivername}://").get_dialect()
    style = cls.default_paramstyle
    return cls(paramstyle=_POSITIONAL.get(style, style))


class DriverInsert:
    """``INSERT INTO table (keys…)`` and the driver-ready form of its rows."""

    def __init__(self, table: Table, keys: tuple[str, ...], dialect: Dialect):
        if not dialect.positional:
            raise ValueError(f"{dialect.paramstyle} is not a positional parameter style")
        self.table, self.keys = table.name, keys
        for column in table.columns:
            _check_left_out(column, keys)
        compiled = insert(table).compile(dialect=dialect, column_keys=list(keys),
                                          for_executemany=True)
        self.sql = str(compiled)
        order = [compiled.binds[name].key for name in compiled.positiontup]
        if order != list(keys):
            raise ValueError(f"{table.name}: the statement binds {order}, not {keys}")
        self.statement = (f"COPY {table.name} ({', '.join(keys)}) FROM STDIN"
                          if dialect.name == "postgresql" else self.sql)
        self._values = itemgetter(*keys) if len(keys) > 1 else lambda v: (v[keys[0]],)
        self._processing = [(i, process) for i, process in
                            enumerate(_processor(table.c[key], dialect) for key in keys)
                            if process is not None]

    def row(self, values: dict) -> tuple:
        """``values`` (every key, Python values as for a Core insert) for the driver."""
        row = list(self._values(values))
        for i, process in self._processing:
            row[i] = process(row[i])
        return tuple(row)


def write(connection, statement: str, rows: list[tuple]) -> None:
    """Hand ``rows`` (from ``DriverInsert.row``) to the driver with ``statement``
    (a ``DriverInsert.statement``), in ``connection``'s transaction."""
    if statement.startswith("COPY "):
        with connection.connection.driver_connection.cursor() as cursor, \
                cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        connection.exec_driver_sql(statement, rows)


def _check_left_out(column, keys) -> None:
    """A column left out gets NULL or its server default here, where a Core insert
    would have run a Python-side default: refuse to differ silently."""
    if column.key in keys or column.autoincrement is True:
        return
    default = column.default
    if default is not None and not (default.is_scalar and default.arg is None):
        raise ValueError(f"{column.table.name}.{column.key} has a Python default: "
                         "give it a value")


def _processor(column, dialect: Dialect) -> Callable | None:
    if isinstance(column.type, JSON):
        # psycopg's JSON processor only wraps the value, leaving the encoding to the
        # driver in the importing process; encode it here, as SQLite's does (the
        # statement casts the text to JSON on PostgreSQL). orjson: the same JSON in a
        # tenth of json.dumps' time (compact, text as UTF-8); the values imported are
        # strings, numbers, booleans, lists and objects only.
        none_as_null = column.type.none_as_null
        return lambda value: (None if value is None and none_as_null
                              else orjson.dumps(value).decode())
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return None if process is None else _remembering(process)


_IMMUTABLE = (str, int, float, bool, Decimal, date, datetime)


def _remembering(process: Callable) -> Callable:
    """``process`` answering None and a repeat of its last (immutable) value without
    running again: a chunk's rows share their times and most of their blanks."""
    none, last = process(None), [None, None]

    def run(value):
        if value is None:
            return none
        if value is last[0]:
            return last[1]
        out = process(value)
        if isinstance(value, _IMMUTABLE):
            last[0], last[1] = value, out
        return out
    return run


class DriverStatement:
    """Any statement (an upsert, say) compiled once for the driver, its rows made
    ready as ``DriverInsert``'s are, run with one ``executemany`` (``run``)."""

    def __init__(self, statement, dialect: Dialect):
        if not dialect.positional:
            raise ValueError(f"{dialect.paramstyle} is not a positional parameter style")
        compiled = statement.compile(dialect=dialect, for_executemany=True)
        self.sql = str(compiled)
        binds = [compiled.binds[name] for name in compiled.positiontup]
        self.keys = tuple(bind.key for bind in binds)
        self._values = itemgetter(*self.keys) if len(self.keys) > 1 \
            else lambda v: (v[self.keys[0]],)
        self._processing = [(i, _remembering(process)) for i, process in enumerate(
            bind.type.dialect_impl(dialect).bind_processor(dialect) for bind in binds)
            if process is not None]

    def row(self, values: dict) -> tuple:
        row = list(self._values(values))
        for i, process in self._processing:
            row[i] = process(row[i])
        return tuple(row)

    def run(self, connection, rows: list[dict]) -> None:
        connection.exec_driver_sql(self.sql, [self.row(values) for values in rows])
