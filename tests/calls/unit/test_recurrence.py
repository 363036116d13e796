"""RRULE evaluation in the plan's time zone, and the rules refused before evaluation."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.calls.plans import recurrence

UTC = UTC


def test_local_time_holds_across_daylight_saving():
    starts = datetime(2026, 3, 1, tzinfo=UTC)
    due = recurrence.occurrences(
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0",
        "Europe/London",
        starts,
        starts,
        datetime(2026, 4, 7, tzinfo=UTC),
        limit=100,
    )
    london = [d.astimezone(ZoneInfo("Europe/London")) for d in due]
    assert {(d.hour, d.minute) for d in london} == {(10, 0)}
    assert [d.hour for d in due] == [10, 10, 10, 10, 9, 9]  # BST from 29 March
    assert all(d.tzinfo is UTC for d in due)


def test_month_end_and_window_bounds():
    starts = datetime(2026, 1, 1, tzinfo=UTC)
    due = recurrence.occurrences(
        "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9;BYMINUTE=0",
        "UTC",
        starts,
        datetime(2026, 1, 31, 9, tzinfo=UTC),
        datetime(2026, 4, 30, 9, tzinfo=UTC),
        limit=100,
    )
    assert [d.date().isoformat() for d in due] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
    ]


def test_count_runs_from_the_plan_start_not_the_window():
    starts = datetime(2026, 1, 5, 2, tzinfo=UTC)
    due = recurrence.occurrences(
        "FREQ=WEEKLY;COUNT=3",
        "Asia/Hong_Kong",
        starts,
        datetime(2026, 1, 10, tzinfo=UTC),
        datetime(2026, 12, 31, tzinfo=UTC),
        limit=100,
    )
    assert [d.day for d in due] == [12, 19]


def test_too_many_occurrences_stop_early():
    with pytest.raises(recurrence.TooManyOccurrences):
        recurrence.occurrences(
            "FREQ=DAILY;BYHOUR=0,6,12,18",
            "UTC",
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
            limit=10,
        )


@pytest.mark.parametrize(
    "text, words",
    [
        ("FREQ=HOURLY", "FREQ must be"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z", "COUNT and UNTIL"),
        ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY values must be 1 to 31 or -1 to -31"),
        ("FREQ=DAILY;;BYHOUR=1", "NAME=VALUE"),
        ("FREQ=DAILY\nEXDATE:20260101", "one line"),
        ("FREQ=DAILY;BYHOUR=24", "hour must be in 0..23"),
    ],
)
def test_rules_refused_with_a_reason(text, words):
    with pytest.raises(recurrence.RuleError, match=words):
        recurrence.normalise(text)


def test_rules_are_normalised():
    normal = recurrence.normalise(" rrule:freq=monthly;bymonthday=-1 ")
    assert normal == "FREQ=MONTHLY;BYMONTHDAY=-1"
