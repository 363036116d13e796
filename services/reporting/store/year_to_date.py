"""Year-to-date roll-ups per customer: a row per customer and month holding the sums
from January of that year through the month, for every month from the customer's
first entry of the year to December.

A report that needs each customer's sums over some months (call-effectiveness:
two halves of a window) reads the rows of a few boundary months instead of a row
per customer and month: months ``a``..``b`` of one year are YTD(b) − YTD(a − 1),
and a range over several years adds each year's December. The rows of one month
are stored together (keyed month first), so a boundary is one contiguous read of
a row per customer; its cost grows with customers, not with months or entries.

Writing stays an increment (``add_to``), so the order events arrive in does not
matter and concurrent consumers lose nothing. An entry of month ``m`` belongs in
the rows ``m``..December of its year, up to twelve; a customer with no row for a
month has had no entry in its year up to that month, so the sums are zero. The
consumer does not spread entries as they come: it adds them to the customer's
month in the pending table (``PENDING``), one row, and ``fold`` spreads the pending
months (summed over every window since the last fold) and deletes them, in one
transaction, when the consumer is idle (and at least once a minute of a backlog).
Readers add the pending rows of their ranges' months (a pending row of month ``m``
belongs in every row from ``m`` to December, so to a range's signed ``terms``
exactly when ``m`` is in the range): a report counts an entry the moment its
window commits, folded or not.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
from sqlalchemy import (
    BigInteger,
    and_,
    bindparam,
    case,
    delete,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from services.reporting.pnl.tables import PnlYtd, PnlYtdPending
from services.reporting.relationships.tables import CustomerYtd, CustomerYtdPending
from services.reporting.reports import periods
from services.reporting.store import counters
from services.reporting.store.counters import add_to
from shared.types import Money

# Each year-to-date table and the table of its entries not spread yet.
PENDING = {CustomerYtd: CustomerYtdPending, PnlYtd: PnlYtdPending}


def add(session: Session, model, key: dict, day: date, amounts: dict, *, stored=False) -> None:
    """Add ``amounts`` of an entry on ``day`` to the customer's year-to-date rows (to
    its month's pending row, until ``fold``); ``stored``: their money is in stored
    units already (``counters.in_stored_units``)."""
    adding = counters.add_stored if stored else add_to
    adding(session, PENDING[model], {**key, "month": day.replace(day=1)}, amounts)


def fold(session: Session) -> int:
    """Spread every pending month into its year-to-date rows and delete it, in the
    session's transaction (the moved sums are never in both tables, or in neither,
    for a reader). Returns the pending rows folded.

    On PostgreSQL the pending rows are locked in key order, as windows write them,
    and only those are deleted: a window committing meanwhile keeps its rows for the
    next fold. On SQLite this transaction is the only writer."""
    counters.flush_rows(session)  # the transaction's own entries too
    folded = 0
    for model, pending in PENDING.items():
        table = pending.__table__
        keys = tuple(column.key for column in table.primary_key.columns)
        names = tuple(column.key for column in table.columns if column.key not in keys)
        query = select(*(table.c[k] for k in keys), *(_stored(table.c[n]) for n in names))
        connection = session.connection()
        if counters.locks_rows(session):
            rows = connection.execute(
                query.order_by(*(table.c[k] for k in keys)).with_for_update()
            ).all()
            if rows:
                connection.execute(
                    delete(table).where(and_(*(table.c[k] == bindparam(f"key_{k}") for k in keys))),
                    [{f"key_{k}": value for k, value in zip(keys, row)} for row in rows],
                )
        else:
            rows = connection.execute(query).all()
            connection.execute(delete(table))
        if rows:
            width = len(keys)
            counters.write(
                session,
                model,
                keys,
                names,
                spread(keys, {tuple(row[:width]): dict(zip(names, row[width:])) for row in rows}),
            )
            folded += len(rows)
    return folded


def _stored(column):
    """A column as stored: money as its whole ten-thousandths."""
    return type_coerce(column, BigInteger) if isinstance(column.type, Money) else column


def spread(keys: tuple, rows: dict) -> dict:
    """Monthly sums (``{key values with the month: amounts}``, as ``add_to`` keeps
    them) → the year-to-date increments they make: each month's amounts added to
    that month's row and every later month's of its year."""
    at = keys.index("month")
    years: dict = {}
    for values, amounts in rows.items():
        month = values[at]
        years.setdefault((values[:at] + values[at + 1 :], month.year), {})[month.month] = amounts
    out = {}
    for (rest, year), months in years.items():
        running = None
        for number in range(min(months), 13):
            amounts = months.get(number)
            if amounts is not None:
                running = (
                    dict(amounts)
                    if running is None
                    else {name: running[name] + value for name, value in amounts.items()}
                )
            out[rest[:at] + (date(year, number, 1),) + rest[at:]] = running
    return out


def _before(month: date) -> date | None:
    """The month before, or None when ``month`` is January (nothing before in its year)."""
    return None if month.month == 1 else month.replace(month=month.month - 1)


def terms(first: date, last: date) -> dict[date, int]:
    """``{boundary month: sign}`` whose year-to-date rows, signed and summed, give the
    sums over the months ``first``..``last`` (first days of months, inclusive)."""
    if first.day != 1 or last.day != 1:
        raise ValueError(f"months are their first days, not {first} and {last}")
    out: Counter = Counter()
    for year in range(first.year, last.year + 1):
        out[last if year == last.year else date(year, 12, 1)] += 1
        if year == first.year and _before(first) is not None:
            out[_before(first)] -= 1
    return {month: sign for month, sign in out.items() if sign}


def read(session: Session, model, columns: tuple, ranges: dict, **equal):
    """Each customer's sums of ``columns`` over each named range of months
    (``{name: (first month, last month)}``), from the rows of the ranges' boundary
    months and the pending rows of their months, where every column named in
    ``equal`` has its value: ``(customer ids, {name: int64 array, a row per
    customer})``. Money columns come as their stored ten-thousandths, so sums stay
    exact. One statement, so it sees a fold either wholly done or not begun."""
    if not ranges:
        return [], {}
    signs = {name: terms(*span) for name, span in ranges.items()}
    boundaries = sorted(set().union(*signs.values()))
    pending = PENDING[model]
    low = min(first for first, _ in ranges.values())
    high = max(last for _, last in ranges.values())
    months = periods.months(low, high)
    parts = [
        select(literal(at), *_columns(model, columns)).where(
            model.month == month, *_equal(model, equal)
        )
        for at, month in enumerate(boundaries)
    ]
    # a pending row is tagged by its month's place after the boundaries
    parts.append(
        select(
            case(
                {month: len(boundaries) + at for at, month in enumerate(months)},
                value=pending.month,
            ),
            *_columns(pending, columns),
        ).where(pending.month.between(low, high), *_equal(pending, equal))
    )
    # Core, not ORM, execution: the ORM's result handling cost as much as the read.
    rows = session.connection().execute(union_all(*parts)).all()
    if not rows:
        return [], {name: np.zeros((0, len(columns)), np.int64) for name in ranges}
    index: dict = {}
    tags, ids, *values = zip(*rows)
    positions = np.array([index.setdefault(cid, len(index)) for cid in ids], np.int64)
    tags, values = np.array(tags, np.int64), np.array(values, np.int64).T
    out = {name: np.zeros((len(index), len(columns)), np.int64) for name in ranges}
    for tag in np.unique(tags):
        taken = tags == tag
        at, rows_values = positions[taken], values[taken]
        for name, (first, last) in ranges.items():
            if tag < len(boundaries):
                sign = signs[name].get(boundaries[tag], 0)
            else:
                sign = int(first <= months[tag - len(boundaries)] <= last)
            if sign:
                out[name][at] += sign * rows_values  # a customer once per tag
    return list(index), out


def _columns(model, columns: tuple) -> list:
    return [model.customer_id, *(_stored(model.__table__.c[name]) for name in columns)]


def _equal(model, equal: dict) -> list:
    return [getattr(model, name) == value for name, value in equal.items()]
