"""Many rows written by one statement through the database driver's executemany,
the statement compiled once per dialect.

A delivery window writes thousands of rows (event log, counters); SQLAlchemy's
per-row parameter handling in ``execute(statement, rows)`` cost more than the
database's own work. The columns' bind processors still convert each value (money
to ten-thousandths, times to UTC), and columns a row leaves out get their scalar
defaults, as ``execute`` would give them.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session


def run(session: Session, statement, model, rows: list[dict]) -> None:
    if not rows:
        return
    connection = session.connection()
    sql, positional, processors, defaults = _compiled(connection.dialect, statement, model)
    params = []
    for row in rows:
        values = {**defaults, **row}
        for name, process in processors:
            if name in values:
                values[name] = process(values[name])
        params.append(tuple(values[name] for name in positional) if positional else values)
    connection.exec_driver_sql(sql, params)


@lru_cache(maxsize=None)
def _compiled(dialect, statement, model):
    compiled = statement.compile(dialect=dialect)
    named = set(compiled.binds)
    processors, defaults = [], {}
    for column in model.__table__.columns:
        process = column.type.bind_processor(dialect)
        if process is not None:
            processors.append((column.key, process))
        if column.key in named and column.default is not None and column.default.is_scalar:
            value = column.default.arg
            defaults[column.key] = process(value) if process else value
    return compiled.string, tuple(compiled.positiontup or ()), tuple(processors), defaults
