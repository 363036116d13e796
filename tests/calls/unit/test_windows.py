"""Calling windows and Hong Kong public holidays, on their own and through scheduling."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.calls.plans import windows
from services.calls.plans.scheduling import due_slots
from services.calls.plans.tables import CallPlan

HKT = ZoneInfo("Asia/Hong_Kong")
UTC = UTC
OFFICE = [{"days": ["MO", "TU", "WE", "TH", "FR"], "start": "09:00", "end": "18:00"}]


def hk(*args):
    return datetime(*args, tzinfo=HKT)


NEW_YEAR = hk(2026, 1, 1)


def plan(rrule, allow_holidays=False, wins=OFFICE, starts=NEW_YEAR, ends=None):
    return CallPlan(
        id="p",
        rrule=rrule,
        timezone="Asia/Hong_Kong",
        windows=wins,
        allow_holidays=allow_holidays,
        starts_at=starts.astimezone(UTC),
        ends_at=ends,
        version=1,
    )


def test_inside_a_window_the_call_is_due_as_planned():
    due, end = windows.place(hk(2026, 3, 2, 10), "Asia/Hong_Kong", OFFICE, False)
    assert (due, end) == (hk(2026, 3, 2, 10), hk(2026, 3, 2, 18))
    assert due.tzinfo is UTC


def test_after_hours_moves_to_the_next_opening_and_weekends_are_skipped():
    due, end = windows.place(hk(2026, 3, 6, 19), "Asia/Hong_Kong", OFFICE, False)  # Friday
    assert (due, end) == (hk(2026, 3, 9, 9), hk(2026, 3, 9, 18))  # Monday


def test_before_opening_moves_to_the_opening_the_same_day():
    due, _ = windows.place(hk(2026, 3, 2, 7, 30), "Asia/Hong_Kong", OFFICE, False)
    assert due == hk(2026, 3, 2, 9)


def test_hong_kong_public_holidays_are_skipped_unless_allowed():
    # Chinese New Year 2026: 17-19 February (Tue-Thu).
    due, _ = windows.place(hk(2026, 2, 17, 10), "Asia/Hong_Kong", OFFICE, False)
    assert due == hk(2026, 2, 20, 9)
    due, _ = windows.place(hk(2026, 2, 17, 10), "Asia/Hong_Kong", OFFICE, True)
    assert due == hk(2026, 2, 17, 10)
    # Christmas Day (Fri) and the first weekday after it (Sat) in 2026.
    assert windows.is_holiday(datetime(2026, 12, 25).date())
    due, _ = windows.place(hk(2026, 12, 25, 10), "Asia/Hong_Kong", [], False)
    assert due == hk(2026, 12, 27, 10)


def test_several_windows_a_day_use_the_next_open_one():
    split = [
        {"days": ["MO"], "start": "09:00", "end": "12:00"},
        {"days": ["MO"], "start": "14:00", "end": "17:00"},
    ]
    due, end = windows.place(hk(2026, 3, 2, 12, 30), "Asia/Hong_Kong", split, False)
    assert (due, end) == (hk(2026, 3, 2, 14), hk(2026, 3, 2, 17))
    assert windows.inside(hk(2026, 3, 2, 15), "Asia/Hong_Kong", split)
    assert not windows.inside(hk(2026, 3, 2, 13), "Asia/Hong_Kong", split)


def test_without_windows_a_call_may_be_made_until_the_end_of_its_day():
    due, end = windows.place(hk(2026, 3, 2, 10), "Asia/Hong_Kong", [], False)
    assert (due, end) == (hk(2026, 3, 2, 10), hk(2026, 3, 3, 0))


def test_month_end_rule_in_hong_kong_has_no_dst_and_skips_holidays():
    slots = due_slots(
        plan("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=10;BYMINUTE=0", wins=[]),
        hk(2026, 1, 1),
        hk(2027, 1, 1),
    )
    local = [due.astimezone(HKT) for due, _ in slots]
    assert [d.date().isoformat() for d in local] == [
        "2026-01-31",
        "2026-02-28",
        "2026-03-31",
        "2026-04-30",
        "2026-05-31",
        "2026-06-30",
        "2026-07-31",
        "2026-08-31",
        "2026-09-30",
        "2026-10-31",
        "2026-11-30",
        "2026-12-31",
    ]
    assert {d.hour for d in local} == {10}  # no daylight saving in Hong Kong
    assert {due.hour for due, _ in slots} == {2}


def test_month_end_on_a_weekend_moves_into_the_office_window():
    slots = due_slots(
        plan("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=10;BYMINUTE=0"), hk(2026, 1, 1), hk(2026, 6, 1)
    )
    local = [due.astimezone(HKT) for due, _ in slots]
    # 31 Jan 2026 is a Saturday: Monday 2 Feb; 28 Feb (Sat): Monday 2 Mar.
    assert [d.date().isoformat() for d in local] == [
        "2026-02-02",
        "2026-03-02",
        "2026-03-31",
        "2026-04-30",
        "2026-06-01",
    ]
    assert local[0].hour == 9


def test_the_31st_only_occurs_in_long_months():
    slots = due_slots(
        plan("FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=10", allow_holidays=True, wins=[]),
        hk(2026, 1, 1),
        hk(2026, 12, 31, 23),
    )
    assert [d.astimezone(HKT).month for d, _ in slots] == [1, 3, 5, 7, 8, 10, 12]


def test_a_plan_end_stops_its_calls():
    ends = hk(2026, 1, 20).astimezone(UTC)
    slots = due_slots(
        plan("FREQ=WEEKLY;BYDAY=MO;BYHOUR=10", ends=ends), hk(2026, 1, 1), hk(2026, 3, 1)
    )
    assert [d.astimezone(HKT).day for d, _ in slots] == [5, 12, 19]


def test_two_occurrences_moved_to_one_opening_make_one_call():
    slots = due_slots(plan("FREQ=DAILY;BYHOUR=20,21"), hk(2026, 3, 2), hk(2026, 3, 3))
    assert [d.astimezone(HKT) for d, _ in slots] == [hk(2026, 3, 3, 9)]


@pytest.mark.parametrize("day", ["2026-04-03", "2026-07-01", "2026-10-01", "2026-01-01"])
def test_known_hong_kong_holidays(day):
    assert windows.is_holiday(datetime.fromisoformat(day).date())
