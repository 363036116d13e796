"""Splitting a period of local days into whole months (answered from monthly roll-ups)
and the days at its edges (answered from daily rows): every day of the period is in
exactly one part, whatever the period."""

from datetime import date, timedelta

import pytest

from services.reporting.reports import periods

DAY = timedelta(days=1)


def days_of(parts: list) -> list[date]:
    """Each day a list of ``cube_parts`` covers, as often as it covers it."""
    covered = []
    for model, low, high in parts:
        if model == "month":  # a monthly row covers its whole months
            month = low
            while month <= high:
                covered += [
                    month + DAY * i for i in range((periods.month_end(month) - month).days + 1)
                ]
                month = periods.next_month(month)
        else:
            covered += [low + DAY * i for i in range((high - low).days + 1)]
    return covered


def test_every_day_of_a_period_is_in_exactly_one_part():
    first = date(2023, 12, 20)
    for start in (first + DAY * i for i in range(0, 80, 3)):
        for length in (0, 1, 9, 27, 28, 30, 31, 45, 61, 100, 400):
            end = start + DAY * length
            parts = periods.cube_parts("day", "month", start, end)
            wanted = [start + DAY * i for i in range(length + 1)]
            assert sorted(days_of(parts)) == wanted, (start, end, parts)


def test_whole_months_are_read_from_the_monthly_roll_up():
    parts = periods.cube_parts("day", "month", date(2026, 1, 15), date(2026, 4, 10))
    assert parts == [
        ("day", date(2026, 1, 15), date(2026, 1, 31)),
        ("day", date(2026, 4, 1), date(2026, 4, 10)),
        ("month", date(2026, 2, 1), date(2026, 3, 31)),
    ]
    assert periods.cube_parts("day", "month", date(2026, 1, 1), date(2026, 3, 31)) == [
        ("month", date(2026, 1, 1), date(2026, 3, 31))
    ]


def test_a_period_inside_one_month_is_read_from_days_only():
    parts = periods.split(date(2026, 1, 10), date(2026, 1, 20))
    assert parts.months_empty()
    assert parts.edges == ((date(2026, 1, 10), date(2026, 1, 20)),)
    assert periods.cube_parts("day", "month", date(2026, 1, 10), date(2026, 1, 20)) == [
        ("day", date(2026, 1, 10), date(2026, 1, 20))
    ]


@pytest.mark.parametrize(
    ("start", "end", "first_month", "after_months", "edges"),
    [
        (None, None, None, None, ()),
        (None, date(2026, 2, 10), None, date(2026, 2, 1), ((date(2026, 2, 1), date(2026, 2, 10)),)),
        (
            date(2026, 2, 10),
            None,
            date(2026, 3, 1),
            None,
            ((date(2026, 2, 10), date(2026, 2, 28)),),
        ),
        (None, date(2026, 2, 28), None, date(2026, 3, 1), ()),
    ],
)
def test_an_open_ended_period_runs_from_the_beginning_or_to_the_end(
    start, end, first_month, after_months, edges
):
    assert periods.split(start, end) == (first_month, after_months, edges)


def test_month_arithmetic_follows_the_calendar():
    assert periods.month_end(date(2024, 2, 3)) == date(2024, 2, 29)
    assert periods.month_end(date(2100, 2, 3)) == date(2100, 2, 28)
    assert periods.month_end(date(2026, 12, 31)) == date(2026, 12, 31)
    assert periods.next_month(date(2026, 12, 31)) == date(2027, 1, 1)
    assert periods.month_before(date(2026, 1, 1)) == date(2025, 12, 1)
    assert periods.months(date(2024, 1, 31), date(2024, 3, 1)) == [
        date(2024, 1, 1),
        date(2024, 2, 1),
        date(2024, 3, 1),
    ]
