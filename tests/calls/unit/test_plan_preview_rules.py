"""The plan editor's preview (services.calls.plan_preview) without an app: the next
dates of a rule, where the calling windows and Hong Kong's holidays place each, and
a refusal when the windows never open."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.calls.plans import preview as plan_preview
from shared.errors import Invalid

HKT = ZoneInfo("Asia/Hong_Kong")
OFFICE = [{"days": ["MO", "TU", "WE", "TH", "FR"], "start": "09:00", "end": "18:00"}]
NOW = datetime(2026, 2, 1, tzinfo=UTC)
TUESDAYS = "FREQ=WEEKLY;BYDAY=TU;BYHOUR=10;BYMINUTE=0"


def hk(*args):
    return datetime(*args, tzinfo=HKT)


def test_an_occurrence_on_a_public_holiday_moves_to_the_next_working_window():
    found = plan_preview.preview(
        TUESDAYS, "Asia/Hong_Kong", hk(2026, 2, 10, 10), 3, OFFICE, False, NOW
    )
    rows = [(i["occurs_at"], i["due_at"], i["window_end"], i["moved"]) for i in found["items"]]
    assert rows == [
        (hk(2026, 2, 10, 10), hk(2026, 2, 10, 10), hk(2026, 2, 10, 18), False),
        # Lunar New Year: Tuesday 17 to Thursday 19 February 2026.
        (hk(2026, 2, 17, 10), hk(2026, 2, 20, 9), hk(2026, 2, 20, 18), True),
        (hk(2026, 2, 24, 10), hk(2026, 2, 24, 10), hk(2026, 2, 24, 18), False),
    ]
    assert [i["holiday"] is not None for i in found["items"]] == [False, True, False]
    assert all(i["due_at"].tzinfo == HKT for i in found["items"])  # shown in the plan's zone


def test_a_plan_that_allows_holidays_is_called_on_them():
    found = plan_preview.preview(
        TUESDAYS, "Asia/Hong_Kong", hk(2026, 2, 17, 10), 1, OFFICE, True, NOW
    )
    (item,) = found["items"]
    assert item["due_at"] == hk(2026, 2, 17, 10) and not item["moved"]
    assert item["holiday"] is not None  # still named, so the editor can say so


def test_the_start_is_stored_in_utc_to_the_minute_as_a_plan_stores_it():
    found = plan_preview.preview(
        TUESDAYS, "Asia/Hong_Kong", hk(2026, 2, 10, 10, 0, 33, 5), 1, OFFICE, False, NOW
    )
    assert found["starts_at"] == datetime(2026, 2, 10, 2, 0, tzinfo=UTC)
    assert found["timezone"] == "Asia/Hong_Kong"


def test_without_a_start_the_preview_begins_now_and_skips_what_is_past():
    now = hk(2026, 2, 11, 12).astimezone(UTC)
    found = plan_preview.preview(TUESDAYS, "Asia/Hong_Kong", None, 1, OFFICE, False, now)
    assert found["items"][0]["occurs_at"] == hk(2026, 2, 17, 10)


def test_windows_that_never_open_are_refused_with_the_reason():
    never = [{"days": [], "start": "09:00", "end": "18:00"}]
    with pytest.raises(Invalid) as refused:
        plan_preview.preview("FREQ=DAILY", "Asia/Hong_Kong", None, 2, never, False, NOW)
    assert refused.value.errors["windows"][0].startswith("no calling window opens within 21 days")
