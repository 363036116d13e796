"""Calling windows and Hong Kong public holidays: where a recurrence's occurrence
lands in time a customer may actually be called.

A window is ``{"days": ["MO", ...], "start": "09:00", "end": "18:00"}`` in the
plan's time zone. An occurrence inside a window (on a day that is not a public
holiday, unless the plan allows those) is due as it is; one outside is moved to
the next opening, so a plan never silently loses a call. A plan without windows
may be called until the end of the occurrence's local day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Far enough to cross Chinese New Year plus a weekend, and any one-day-a-week window.
SEARCH_DAYS = 21


class NeverOpens(ValueError):
    """No window opens within the search horizon."""


@lru_cache(maxsize=64)
def _hk_holidays(year: int) -> frozenset[date]:
    # "public" and "optional" together are Hong Kong's general holidays.
    found = holidays.HK(years=year, categories=holidays.HK.supported_categories)
    return frozenset(found)


def is_holiday(day: date) -> bool:
    return day in _hk_holidays(day.year)


def holiday_name(day: date) -> str | None:
    found = holidays.HK(years=day.year, categories=holidays.HK.supported_categories)
    return found.get(day)


def parse_time(text: str) -> time:
    return time.fromisoformat(text)


def _spans(windows: list[dict], day: date) -> list[tuple[time, time]]:
    code = DAYS[day.weekday()]
    return sorted(
        (parse_time(w["start"]), parse_time(w["end"])) for w in windows if code in w["days"]
    )


def place(
    due: datetime, zone: str, windows: list[dict], allow_holidays: bool
) -> tuple[datetime, datetime]:
    """``(due_at, window_end)`` in UTC for an occurrence ``due`` (aware)."""
    tz = ZoneInfo(zone)
    local = due.astimezone(tz)
    for offset in range(SEARCH_DAYS + 1):
        day = local.date() + timedelta(days=offset)
        if not allow_holidays and is_holiday(day):
            continue
        if not windows:
            start = local if offset == 0 else datetime.combine(day, local.timetz())
            end = datetime.combine(day + timedelta(days=1), time(0), tz)
            return _utc(start), _utc(end)
        for opens, closes in _spans(windows, day):
            start, end = datetime.combine(day, opens, tz), datetime.combine(day, closes, tz)
            if offset == 0 and local >= end:
                continue
            return _utc(max(start, local)), _utc(end)
    raise NeverOpens(f"no calling window opens within {SEARCH_DAYS} days of {local.isoformat()}")


def inside(when: datetime, zone: str, windows: list[dict]) -> bool:
    """Whether ``when`` falls in one of the windows (always, if there are none)."""
    if not windows:
        return True
    local = when.astimezone(ZoneInfo(zone))
    return any(opens <= local.time() < closes for opens, closes in _spans(windows, local.date()))


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
