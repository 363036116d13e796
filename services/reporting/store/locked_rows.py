"""Per-entity rows (a call, a deal, a customer) read and changed within the
consumer's transaction, which covers a whole delivery window of events.

A row is read (and locked) once per transaction and then held by the session; a
change that needs no read of the row is queued and written with the others of its
kind before the commit, or before the row is next read, whichever comes first.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, inspect, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapper, Session, make_transient_to_detached

from services.reporting.store.counters import INSERTS, key_order, locks_rows
from shared import bulk_writes


def held(session: Session, model, key: dict):
    """The row ``key`` if this transaction already holds it, else None (no query)."""
    return session.identity_map.get(
        _mapper(model).identity_key_from_primary_key(tuple(key.values()))
    )


@cache
def _mapper(model) -> Mapper:
    return inspect(model)


def row_for_update(session: Session, model, key: dict, *, new: bool = False, **defaults):
    """The row ``key`` locked for this transaction, inserted first if missing.

    Never get-then-add: two consumers seeing a new customer at once must not both
    insert it. A row is looked up first, and only when absent inserted-or-nothing
    then locked; ``new`` says it is most likely absent, so the insert goes first."""
    row = held(session, model, key)
    if row is not None:
        return row
    _write_queued(session, model, key)
    if not new:
        row = _locked(session, model, key)
        if row is not None:
            return row
    dialect = session.get_bind().dialect.name
    statement = _insert_if_absent(dialect, model, tuple(key) + tuple(defaults))
    if session.connection().execute(statement, {**key, **defaults}).rowcount == 1:
        # Inserted just now (and so locked by us): we know every column, no read needed.
        row = model(**{**_column_defaults(model), **key, **defaults})
        make_transient_to_detached(row)
        session.add(row)
        return row
    return _locked(session, model, key)


def insert_if_absent(session: Session, row) -> bool:
    """Insert the new object ``row`` unless its key is already there; True if it was
    inserted (and so is locked by us, and held by the session as it is)."""
    model = type(row)
    values = {column.key: getattr(row, column.key) for column in model.__table__.columns}
    key = {column.key: values[column.key] for column in model.__table__.primary_key}
    if held(session, model, key) is not None:
        return False
    _write_queued(session, model, key)
    statement = _insert_if_absent(session.get_bind().dialect.name, model, tuple(values))
    if session.connection().execute(statement, values).rowcount != 1:
        return False
    make_transient_to_detached(row)
    session.add(row)
    return True


def hold_rows(session: Session, model, keys: list[dict]) -> None:
    """Read and lock in one query the rows ``keys`` (of a one-column key) that are
    neither held nor queued; ``row_for_update`` then finds them held."""
    queued = session.info.get("sets", {})
    wanted = [
        key
        for key in keys
        if held(session, model, key) is None
        and not any(
            shape[0] is model and tuple(key.values()) in rows for shape, rows in queued.items()
        )
    ]
    if len(wanted) < 2:
        return
    [name] = wanted[0]
    column = model.__table__.c[name]
    with session.no_autoflush:
        session.scalars(
            select(model).where(column.in_([key[name] for key in wanted])).with_for_update()
        ).all()


def _locked(session: Session, model, key: dict):
    with session.no_autoflush:  # the row is in the database; pending changes can wait
        return session.get(model, tuple(key.values()), with_for_update=True)


def set_later(session: Session, model, key: dict, defaults: dict, values: dict) -> None:
    """Set ``values`` on the row ``key`` without reading it (inserting it with
    ``defaults`` if new). Only for rows this transaction does not hold (see ``held``)."""
    queued = session.info.get("sets")
    if queued is None:
        queued = session.info["sets"] = {}
        sa_event.listen(session, "before_commit", write_sets, once=True)
    shape = (model, tuple(key), tuple(defaults), tuple(values))
    queued.setdefault(shape, {})[tuple(key.values())] = {**key, **defaults, **values}


def write_sets(session: Session) -> None:
    """Write every queued change now, one statement per kind."""
    dialect = session.get_bind().dialect.name
    for (model, keys, defaults, values), rows in session.info.pop("sets", {}).items():
        # all of them may have been written early, before a read: then rows is empty;
        # in key order where rows are locked (see ``counters.write``)
        ordered = (
            (rows[key] for key in sorted(rows, key=key_order))
            if locks_rows(session)
            else rows.values()
        )
        if rows:
            bulk_writes.run_dicts(
                session.connection(),
                _set_or_insert(dialect, model, keys, defaults, values),
                list(ordered),
            )


def _write_queued(session: Session, model, key: dict) -> None:
    """A queued change to the row is written before the row is read."""
    identity = tuple(key.values())
    for shape, rows in session.info.get("sets", {}).items():
        row = rows.pop(identity, None) if shape[0] is model else None
        if row is not None:
            statement = _set_or_insert(session.get_bind().dialect.name, *shape)
            session.connection().execute(statement, row)


@cache
def _set_or_insert(dialect: str, model, keys: tuple, defaults: tuple, values: tuple):
    insert = INSERTS[dialect](model).values(
        {name: bindparam(name) for name in keys + defaults + values}
    )
    return insert.on_conflict_do_update(
        index_elements=list(keys), set_={name: insert.excluded[name] for name in values}
    )


@cache
def _column_defaults(model) -> dict:
    """What an INSERT naming none of them stores in each column."""
    return {
        column.key: column.default.arg
        if column.default is not None and column.default.is_scalar
        else None
        for column in model.__table__.columns
    }


@cache
def _insert_if_absent(dialect: str, model, names: tuple):
    # Whether it inserted is its rowcount, which psycopg only reports when asked.
    return (
        INSERTS[dialect](model)
        .values({name: bindparam(name) for name in names})
        .on_conflict_do_nothing()
        .execution_options(preserve_rowcount=True)
    )
