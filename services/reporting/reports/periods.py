"""Splitting a period of local days into whole calendar months, answered from
monthly roll-ups, and the days at its edges that are not whole months, answered
from daily rows: a ten-month period reads ten monthly rows per key, not 300 daily."""

from __future__ import annotations

from datetime import date, timedelta
from typing import NamedTuple


class Split(NamedTuple):
    first_month: date | None  # first whole month (None: from the beginning)
    after_months: date | None  # the month after the last whole one (None: to the end)
    edges: tuple  # (start, end) day ranges outside the whole months

    def months_empty(self) -> bool:
        return (
            self.first_month is not None
            and self.after_months is not None
            and self.first_month >= self.after_months
        )


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def months(start: date, end: date) -> list[date]:
    """The first days of the months from ``start``'s through ``end``'s."""
    out, month = [], start.replace(day=1)
    while month <= end:
        out.append(month)
        month = next_month(month)
    return out


def month_before(month: date) -> date:
    return (month - timedelta(days=1)).replace(day=1)


def month_end(day: date) -> date:
    return next_month(day) - timedelta(days=1)


def split(start: date | None, end: date | None) -> Split:
    first = None if start is None else start if start.day == 1 else next_month(start)
    after = (
        None if end is None else next_month(end) if end == month_end(end) else end.replace(day=1)
    )
    edges = []
    if start is not None and start.day != 1:
        edges.append((start, month_end(start) if end is None else min(end, month_end(start))))
    if end is not None and end != month_end(end):
        low = end.replace(day=1) if start is None else max(start, end.replace(day=1))
        if not edges or edges[0] != (low, end):
            edges.append((low, end))
    return Split(first, after, tuple(edges))


def where_months(query, column, parts: Split):
    if parts.first_month is not None:
        query = query.where(column >= parts.first_month)
    if parts.after_months is not None:
        query = query.where(column < parts.after_months)
    return query


def cube_parts(day_model, month_model, start: date | None, end: date | None) -> list:
    """``(model, start, end)`` parts covering the period: the monthly roll-up for the
    whole months (its ``day`` is the month's first day), the day cube for the edges."""
    parts = split(start, end)
    out = [(day_model, low, high) for low, high in parts.edges]
    if not parts.months_empty():
        last = None if parts.after_months is None else parts.after_months - timedelta(days=1)
        out.append((month_model, parts.first_month, last))
    return out
