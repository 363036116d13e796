"""The plan editor's preview: the next dates a recurrence rule gives in a time zone,
and where the calling windows (and Hong Kong holidays) place each of them, by the
same ``recurrence`` and ``windows`` code that plans the calls. Reads nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from services.calls.plans import recurrence, windows
from shared.errors import Invalid


def preview(
    rule: str,
    zone: str,
    starts_at: datetime | None,
    count: int,
    plan_windows: list[dict],
    allow_holidays: bool,
    now: datetime,
) -> dict:
    # Truncated as create_plan stores it: a rule without BYSECOND keeps dtstart's seconds.
    start = (starts_at or now).astimezone(UTC).replace(second=0, microsecond=0)
    rule = recurrence.normalise(rule)
    tz = ZoneInfo(zone)
    items = []
    for occurs in recurrence.next_n(rule, zone, start, max(now, start), count):
        try:
            due, closes = windows.place(occurs, zone, plan_windows, allow_holidays)
        except windows.NeverOpens as exc:
            raise Invalid(
                "the calling windows never open", errors={"windows": [str(exc)]}
            ) from None
        items.append(
            {
                "occurs_at": occurs.astimezone(tz),
                "due_at": due.astimezone(tz),
                "window_end": closes.astimezone(tz),
                "moved": due != occurs,
                "holiday": windows.holiday_name(occurs.astimezone(tz).date()),
            }
        )
    return {"rrule": rule, "timezone": zone, "starts_at": start, "items": items}
