"""Statements compiled once per dialect, with the conversions of their parameters
and columns, for the hottest reads (``Database.fetch`` says why).

Only SQLAlchemy's public API: ``ClauseElement.compile``, the compiled statement's
``string``, ``positiontup`` and ``binds``, the statement's ``selected_columns``, and
each type's ``dialect_impl(dialect).bind_processor`` / ``result_processor`` (the same
conversions SQLAlchemy applies when it executes the statement itself)."""

from __future__ import annotations


class Prepared:
    """A statement compiled for one dialect, with its parameters' and columns'
    conversions (the result conversions are fixed at the first execution, where the
    driver says what type each column came as)."""

    def __init__(self, dialect, statement):
        compiled = statement.compile(dialect=dialect)
        self.dialect, self.sql = dialect, compiled.string
        self.order = tuple(compiled.positiontup or ())
        self.binds = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        columns = statement.selected_columns
        self.keys = tuple(columns.keys())
        self.types = tuple(column.type for column in columns)
        self._converters: tuple | None = None

    def parameters(self, params: dict):
        if not self.order:
            return {
                name: (self.binds[name](value) if self.binds.get(name) else value)
                for name, value in params.items()
            }
        values = []
        for name in self.order:
            process = self.binds.get(name)
            values.append(process(params[name]) if process else params[name])
        return tuple(values)

    def converters(self, description) -> tuple:
        if self._converters is None:
            self._converters = tuple(
                (i, f)
                for i, (type_, column) in enumerate(zip(self.types, description))
                if (f := type_.dialect_impl(self.dialect).result_processor(self.dialect, column[1]))
            )
        return self._converters


_PREPARED: dict = {}


def prepare(dialect, statement) -> Prepared:
    key = (dialect.name, dialect.driver, statement)
    prepared = _PREPARED.get(key)
    if prepared is None:
        prepared = _PREPARED[key] = Prepared(dialect, statement)
    return prepared
