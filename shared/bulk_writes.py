"""Writing many rows of one shape at once, in the caller's transaction: the one bulk
writer of every service (imports, scheduling runs, reporting windows, P&L bookings).

A Core ``execute(statement, rows)`` converts every value of every row through
SQLAlchemy's parameter handling, which for these rows costs more than the database's
own work. Here a statement is compiled once per dialect with positional parameters
(``Rows``), each value is converted by its type's own bind processor where the row is
built (an import's worker process, say), and the rows reach the driver as tuples
(``write``): a plain insert into PostgreSQL through ``COPY`` (psycopg's
``Cursor.copy``), any other statement (an upsert) or database through the driver's
``executemany``. Failures are raised as SQLAlchemy's exceptions, as any statement's.
Several such statements in a row (a reporting window's upserts, one per table) are
sent to PostgreSQL as one pipeline (``pipelined``): one round trip, not one each.

Only public APIs: ``SQLCompiler.positiontup`` and ``.binds``,
``TypeEngine.dialect_impl`` and ``.bind_processor``, the pool connection's
``driver_connection``, psycopg's ``Cursor.copy``, ``Connection.pipeline`` and its
adapters' dumpers.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import Any, cast

import orjson
from psycopg.adapt import PyFormat
from sqlalchemy import JSON, Column, Table
from sqlalchemy import insert as core_insert
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import ColumnDefault

# Positional forms of each driver's parameter style: tuples pickle and bind cheaper
# than dicts.
_POSITIONAL = {"pyformat": "format", "named": "qmark"}


def dialect_for(drivername: str) -> Dialect:
    """A dialect like the engine's (``engine.url.drivername``), positional, unconnected."""
    cls = cast(type[DefaultDialect], make_url(f"{drivername}://").get_dialect())
    style = cls.default_paramstyle
    return cls(paramstyle=cast(Any, _POSITIONAL.get(style, style)))


class Rows:
    """``statement`` compiled once for the driver, and its rows in the driver's form.

    ``keys`` are the values a row gives, in order; a parameter of the statement no
    key gives takes its column's scalar default, as a Core insert would. The values
    of ``prepared`` keys come in the driver's form already (``driver_value``; a
    ``shared.types.Money`` amount as its whole ten-thousandths, say) and are handed
    on as they are. ``sql`` is what ``write`` runs; it and the rows are plain data,
    fit to cross processes."""

    def __init__(
        self,
        statement,
        keys: Sequence[str],
        dialect: Dialect,
        *,
        copy: bool = False,
        prepared: Collection[str] = (),
    ):
        if not dialect.positional:
            raise ValueError(f"{dialect.paramstyle} is not a positional parameter style")
        self.keys = keys = tuple(keys)
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
        binds = [compiled.binds[name] for name in compiled.positiontup or ()]
        table, bound = statement.table, [bind.key for bind in binds]
        missing = [key for key in bound if key not in keys]
        self._fill = tuple(_scalar_default(table.c[key], dialect) for key in missing)
        every = keys + tuple(missing)
        types = {bind.key: bind.type for bind in binds}
        self._processing = [
            (i, process)
            for i, process in enumerate(
                _processor(types[key], dialect) if key in types and key not in prepared else None
                for key in keys
            )
            if process is not None
        ]
        self._values = _getter(keys)
        if copy and dialect.name == "postgresql":
            quote = dialect.identifier_preparer
            names = ", ".join(quote.quote(table.c[key].name) for key in every)
            self.sql = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
            self._order = None
        else:
            self.sql = str(compiled)
            sources = [every.index(key) for key in bound]
            self._order = None if sources == list(range(len(every))) else _getter(sources)
        self.arranges = bool(self._fill) or self._order is not None
        # nothing to convert or arrange: a row is its values, picked in order
        self._as_is = not self._processing and not self.arranges

    @classmethod
    def insert(
        cls, table: Table, keys: Sequence[str], dialect: Dialect, *, prepared: Collection[str] = ()
    ) -> Rows:
        """``INSERT INTO table (keys…)``, by ``COPY`` on PostgreSQL. A column left out
        gets its scalar default, or its server default or NULL: one with a Python
        function or SQL expression for default is refused rather than left NULL."""
        for column in table.columns:
            default = column.default
            if column.key not in keys and default is not None and not default.is_scalar:
                raise ValueError(
                    f"{table.name}.{column.key} has a computed default: give it a value"
                )
        return cls(core_insert(table), keys, dialect, copy=True, prepared=prepared)

    def row(self, values: dict) -> tuple:
        """A row given as a mapping with (at least) every key."""
        if self._as_is:
            return self._values(values)
        row = list(self._values(values))
        for i, process in self._processing:
            row[i] = process(row[i])
        return self.arranged(row) if self.arranges else tuple(row)

    def row_of(self, values: Sequence) -> tuple:
        """A row given as the values of ``keys``, in that order."""
        row = list(values)
        for i, process in self._processing:
            row[i] = process(row[i])
        return self.arranged(row) if self.arranges else tuple(row)

    def arranged(self, row: Sequence) -> tuple:
        """A row of driver-ready values of ``keys`` (``driver_value``) as ``sql``
        takes it: defaults added, in the statement's order (see ``arranges``)."""
        if self._fill:
            row = [*row, *self._fill]
        return tuple(row) if self._order is None else self._order(row)


def _getter(picks: Sequence) -> Callable:
    """The values at ``picks`` (positions or keys) of a row, as a tuple."""
    if len(picks) == 1:
        return lambda row: (row[picks[0]],)
    return itemgetter(*picks)


def write(connection: Connection, sql: str, rows: Iterable[tuple]) -> None:
    """Hand ``rows`` (from ``Rows.row``, or made of ``driver_value``s) to the driver
    with ``sql`` (a ``Rows.sql``), in ``connection``'s transaction. ``rows`` may be a
    generator: ``COPY`` then sends rows while the next ones are made."""
    if not sql.startswith("COPY "):
        rows = rows if isinstance(rows, list) else list(rows)
        if rows:
            connection.exec_driver_sql(sql, rows)
        return
    dbapi = connection.dialect.loaded_dbapi
    try:
        with _driver(connection).cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi.Error, dialect=connection.dialect) from exc


@cache
def rows_for(drivername: str, target, keys: tuple[str, ...]) -> Rows:
    """``Rows`` for an engine of ``drivername``: ``Rows.insert`` for a table, ``Rows``
    for a statement; built once per shape."""
    dialect = dialect_for(drivername)
    if isinstance(target, Table):
        return Rows.insert(target, keys, dialect)
    return Rows(target, keys, dialect)


def insert(
    connection: Connection, table: Table, keys: Sequence[str], rows: Iterable[Sequence]
) -> None:
    """Insert ``rows`` (Python values in the order of ``keys``) into ``table``."""
    ready = rows_for(connection.engine.url.drivername, table, tuple(keys))
    write(connection, ready.sql, map(ready.row_of, rows))


def insert_prepared(
    connection: Connection, table: Table, keys: Sequence[str], rows: Iterable[tuple]
) -> None:
    """Insert ``rows`` whose values are already in the driver's form (``driver_value``),
    in the order of ``keys``, into ``table``."""
    ready = rows_for(connection.engine.url.drivername, table, tuple(keys))
    if ready.arranges:
        rows = map(ready.arranged, rows)
    write(connection, ready.sql, rows)


def run(connection: Connection, statement, keys: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Run ``statement`` (an upsert, say) once for each of ``rows`` (Python values in
    the order of ``keys``), in one ``executemany``."""
    ready = rows_for(connection.engine.url.drivername, statement, tuple(keys))
    write(connection, ready.sql, [ready.row_of(row) for row in rows])


def run_dicts(connection: Connection, statement, rows: list[dict]) -> None:
    """``run`` for rows given as mappings, every one with the keys of the first."""
    if rows:
        keys = tuple(rows[0])
        run(
            connection,
            statement,
            keys,
            [itemgetter(*keys)(row) if len(keys) > 1 else (row[keys[0]],) for row in rows],
        )


def driver_value(connection: Connection, column: Column, value):
    """``value`` as a ``Rows.row`` would hand it to the driver for ``column``, and on
    PostgreSQL as the text ``COPY`` reads: for a value many rows share, converted
    once by the caller instead of once a row (a time zone-aware timestamp costs the
    driver more than the rest of a row)."""
    dialect = connection.dialect
    process = _processor(column.type, dialect)
    value = process(value) if process is not None else value
    if dialect.name != "postgresql" or value is None or isinstance(value, str):
        return value
    driver = _driver(connection)
    dumper = driver.adapters.get_dumper(type(value), PyFormat.TEXT)(type(value), driver)
    text = dumper.upgrade(value, PyFormat.TEXT).dump(value)
    return bytes(text).decode(driver.info.encoding)


@contextmanager
def pipelined(connection: Connection) -> Iterator[None]:
    """Run the statements issued within as one pipeline on PostgreSQL (psycopg's
    pipeline mode): each is sent without waiting for the answer to the one before,
    and the answers are read together at the end, where the first failure is raised
    (as SQLAlchemy's exception). Elsewhere, nothing changes. Not for ``COPY``, which
    a pipeline refuses, nor for a statement whose rows are read within."""
    if connection.dialect.name != "postgresql":
        yield
        return
    dbapi = connection.dialect.loaded_dbapi
    try:
        with _driver(connection).pipeline():
            yield
    except dbapi.Error as exc:
        raise DBAPIError.instance(
            "(pipeline)", None, exc, dbapi.Error, dialect=connection.dialect
        ) from exc


def _driver(connection: Connection) -> Any:
    driver = connection.connection.driver_connection
    if driver is None:
        raise RuntimeError("the connection is closed")
    return driver


def _scalar_default(column: Column, dialect: Dialect):
    default = column.default
    if not isinstance(default, ColumnDefault) or not default.is_scalar:
        raise ValueError(f"{column.table.name}.{column.key}: no value and no scalar default")
    process = _processor(column.type, dialect)
    return default.arg if process is None else process(default.arg)


def _processor(type_, dialect: Dialect) -> Callable | None:
    if isinstance(type_, JSON):
        # psycopg's JSON processor only wraps the value, leaving the encoding to the
        # driver in the writing process; it is encoded here instead, as SQLite's
        # processor does (the statement casts the text to JSON on PostgreSQL), by
        # orjson: compact, UTF-8, and far cheaper than json.dumps. The values written
        # are strings, numbers, booleans, lists and objects only.
        none_as_null = type_.none_as_null
        return lambda value: (
            None if value is None and none_as_null else orjson.dumps(value).decode()
        )
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    return None if process is None else _remembering(process)


_IMMUTABLE = (str, int, float, bool, Decimal, date, datetime)


def _remembering(process: Callable) -> Callable:
    """``process`` answering None and a repeat of its last (immutable) value without
    running again: a chunk's rows share their times and most of their blanks."""
    none = process(None)
    last: list[Any] = [None, None]

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
