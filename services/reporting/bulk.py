"""Many rows written by one statement through the database driver's executemany,
the statement compiled once per dialect.

A delivery window writes thousands of rows (event log, counters); SQLAlchemy's
per-row parameter handling in ``execute(statement, rows)`` cost more than the
database's own work. Each value is still converted as the statement binds it
(by its column's type unless the statement names another: money to
ten-thousandths, times to UTC), and columns a row leaves out get their scalar
defaults, as ``execute`` would give them.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy.orm import Session


def run_tuples(session: Session, statement, model, names: tuple, rows) -> None:
    """``run`` for rows given as tuples of the values of ``names``, in that order:
    no dict per row, each value converted by position."""
    if not rows:
        return
    connection = session.connection()
    sql, every, order, processors, fill = _by_position(connection.dialect, statement,
                                                       model, names)
    params = []
    for row in rows:
        values = list(row)
        for at, process in processors:
            values[at] = process(values[at])
        values.extend(fill)
        params.append(tuple(values[at] for at in order) if order is not None
                      else dict(zip(every, values)))
    connection.exec_driver_sql(sql, params)


def run(session: Session, statement, model, rows: list[dict]) -> None:
    """``run_tuples`` for rows given as dicts, every one with the keys of the first."""
    if not rows:
        return
    names = tuple(rows[0])
    run_tuples(session, statement, model, names,
               [tuple(row[name] for name in names) for row in rows])


@lru_cache(maxsize=None)
def _compiled(dialect, statement, model):
    compiled = statement.compile(dialect=dialect)
    named = set(compiled.binds)
    processors, defaults = [], {}
    for column in model.__table__.columns:
        # the type the statement binds the value as: its column's, unless it says otherwise
        bind = compiled.binds.get(column.key)
        process = (column.type if bind is None else bind.type).bind_processor(dialect)
        if process is not None:
            processors.append((column.key, process))
        if column.key in named and column.default is not None and column.default.is_scalar:
            value = column.default.arg
            defaults[column.key] = process(value) if process else value
    return compiled.string, tuple(compiled.positiontup or ()), tuple(processors), defaults


@lru_cache(maxsize=None)
def _by_position(dialect, statement, model, names: tuple):
    """The SQL, every column a row fills (``names``, then defaulted ones), the
    driver's parameter order as positions in it (None for named parameters), the
    conversions by position and the default values."""
    sql, positional, processors, defaults = _compiled(dialect, statement, model)
    filled = tuple(name for name in defaults if name not in names)
    every = names + filled
    by_name = dict(processors)
    at_processors = tuple((at, by_name[name]) for at, name in enumerate(names)
                          if name in by_name)
    order = tuple(every.index(name) for name in positional) if positional else None
    return sql, every, order, at_processors, tuple(defaults[name] for name in filled)
