"""Writing many rows at once in the session's transaction, through the driver.

A Core executemany passes every value of every row through SQLAlchemy's bind
processing; for a scheduling run that was most of its time, although nearly all
values repeat (a chunk has a handful of due times and one creation time). Here
each distinct value is converted once, by the column type's own bind processor
(``to_db``), and the rows go to the driver as they are: ``COPY`` on PostgreSQL,
the driver's ``executemany`` elsewhere.
"""
from __future__ import annotations

from collections.abc import Iterable

from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import Column, Table
from sqlalchemy.engine import Connection


def to_db(connection: Connection, column: Column, value):
    """``value`` as SQLAlchemy would send it to the driver for ``column``; on
    PostgreSQL, as the text ``COPY`` reads, which psycopg would otherwise make again
    for every row (a time zone-aware timestamp costs more than the rest of a row)."""
    dialect = connection.dialect
    processor = column.type.dialect_impl(dialect).bind_processor(dialect)
    value = processor(value) if processor is not None else value
    if dialect.name != "postgresql" or value is None or isinstance(value, str):
        return value
    driver = connection.connection.driver_connection
    text = Transformer(driver).get_dumper(value, PyFormat.TEXT).dump(value)
    return bytes(text).decode(driver.info.encoding)


def insert_rows(connection: Connection, table: Table, columns: tuple[str, ...],
                rows: Iterable[tuple]) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``, values already in the
    driver's form, see ``to_db``) into ``table``; the columns not named take their
    server default or NULL (their Python-side defaults are not applied).

    ``rows`` may be a generator: PostgreSQL then works on the rows already sent
    while the next ones are made."""
    if connection.dialect.name == "postgresql":
        _copy(connection, table, columns, rows)
    else:
        _executemany(connection, table, columns, rows)


# The driver's positional placeholder, by DB-API paramstyle.
_MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def _names(connection: Connection, table: Table, columns: tuple[str, ...]) -> tuple[str, str]:
    quote = connection.dialect.identifier_preparer
    return quote.format_table(table), ", ".join(quote.quote(name) for name in columns)


def _copy(connection: Connection, table: Table, columns: tuple[str, ...],
          rows: Iterable[tuple]) -> None:
    target, names = _names(connection, table, columns)
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _executemany(connection: Connection, table: Table, columns: tuple[str, ...],
                 rows: Iterable[tuple]) -> None:
    style = connection.dialect.paramstyle
    if style not in _MARKS:
        raise NotImplementedError(f"bulk insert with the {style!r} paramstyle")
    target, names = _names(connection, table, columns)
    marks = ", ".join([_MARKS[style]] * len(columns))
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(f"INSERT INTO {target} ({names}) VALUES ({marks})", rows)
    finally:
        cursor.close()
