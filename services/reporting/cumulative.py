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
matter and concurrent consumers lose nothing: an entry of month ``m`` adds to the
rows ``m``..December of its year, at most twelve; a customer with no row for a
month has had no entry in its year up to that month, so the sums are zero. A
transaction sums its entries per customer and month first and spreads the sums
over the following months only when it writes (``spread``).
"""
from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
from sqlalchemy import BigInteger, select, type_coerce
from sqlalchemy.orm import Session

from services.reporting.increments import add_to


def add(session: Session, model, key: dict, day: date, amounts: dict) -> None:
    """Add ``amounts`` of an entry on ``day`` to the customer's year-to-date rows."""
    add_to(session, model, {**key, "month": day.replace(day=1)}, amounts, spread)


def spread(keys: tuple, rows: dict) -> dict:
    """Monthly sums (``{key values with the month: amounts}``, as ``add_to`` keeps
    them) → the year-to-date increments they make: each month's amounts added to
    that month's row and every later month's of its year."""
    at = keys.index("month")
    years: dict = {}
    for values, amounts in rows.items():
        month = values[at]
        years.setdefault((values[:at] + values[at + 1:], month.year), {})[month.month] = amounts
    out = {}
    for (rest, year), months in years.items():
        running = None
        for number in range(min(months), 13):
            amounts = months.get(number)
            if amounts is not None:
                running = (dict(amounts) if running is None else
                           {name: running[name] + value for name, value in amounts.items()})
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


def read(session: Session, model, columns: tuple, ranges: dict, *where):
    """Each customer's sums of ``columns`` over each named range of months
    (``{name: (first month, last month)}``), from the rows of the ranges' boundary
    months only: ``(customer ids, {name: int64 array, a row per customer})``. Money
    columns come as their stored ten-thousandths, so sums stay exact."""
    signs = {name: terms(*span) for name, span in ranges.items()}
    index: dict = {}
    parts = []
    for month in sorted(set().union(*signs.values())):
        query = select(model.customer_id, *(type_coerce(getattr(model, name), BigInteger)
                                            for name in columns))
        # Core, not ORM, execution: the ORM's result handling cost as much as the read.
        rows = session.connection().execute(query.where(model.month == month, *where)).all()
        if rows:
            ids, *values = zip(*rows)
            parts.append((month, [index.setdefault(cid, len(index)) for cid in ids],
                          np.array(values, np.int64).T))
    out = {name: np.zeros((len(index), len(columns)), np.int64) for name in ranges}
    for month, positions, values in parts:
        for name, wanted in signs.items():
            if month in wanted:
                out[name][positions] += wanted[month] * values
    return list(index), out
