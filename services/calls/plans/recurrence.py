"""Call plan recurrence: RFC 5545 RRULEs checked strictly and evaluated in the plan's
time zone, so "Mondays at 10:00" stays 10:00 local across daylight-saving changes.

dateutil parses the rule, but it accepts some values it cannot evaluate (an
INTERVAL of 0 loops forever, a negative COUNT never occurs) and evaluates
sub-daily rules so slowly that they are refused here before they reach it.
"""

from __future__ import annotations

import itertools
import math
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from dateutil.rrule import rrule, rrulestr

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_CHARACTERS = re.compile(r"^[A-Z0-9=;,+\-]+$")
_POSITIVE = ("INTERVAL", "COUNT")
# Ranges dateutil does not check; a value outside them never matches, and a rule
# that never matches is searched to the year 9999.
_RANGES = {
    "BYMONTH": (12, False),
    "BYMONTHDAY": (31, True),
    "BYYEARDAY": (366, True),
    "BYWEEKNO": (53, True),
}
_REFERENCE = datetime(2000, 1, 1, tzinfo=UTC)


class RuleError(ValueError):
    """The text is not a recurrence rule this service can evaluate."""


class TooManyOccurrences(ValueError):
    pass


def normalise(text: str) -> str:
    """The rule in canonical form (upper case, no ``RRULE:`` prefix), or RuleError."""
    body = text.strip().upper().removeprefix("RRULE:")
    if not _CHARACTERS.match(body):
        raise RuleError(
            "Not an RRULE: one line of NAME=VALUE parts separated by ';' "
            "(DTSTART belongs in starts_at)."
        )
    _check_parts(body)
    try:
        rrulestr(body, dtstart=_REFERENCE)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise RuleError(f"Not a valid RRULE: {exc}.") from exc
    return body


def _check_parts(body: str) -> None:
    values = _parts(body)
    if values.get("FREQ") not in FREQUENCIES:
        raise RuleError(
            f"FREQ must be one of {', '.join(FREQUENCIES)} (for several calls a day use BYHOUR)."
        )
    if "COUNT" in values and "UNTIL" in values:
        raise RuleError("COUNT and UNTIL cannot be used together.")
    for name in _POSITIVE:
        if name in values and not _in_range(values[name], 9999, signed=False):
            raise RuleError(f"{name} must be a whole number from 1 to 9999.")
    for name, (top, signed) in _RANGES.items():
        if name in values and not all(_in_range(v, top, signed) for v in values[name].split(",")):
            negative = f" or -1 to -{top}" if signed else ""
            raise RuleError(f"{name} values must be 1 to {top}{negative}.")


def _parts(body: str) -> dict[str, str]:
    parts = [part.partition("=") for part in body.split(";")]
    if any(not sep or not value for _, sep, value in parts):
        raise RuleError("Not an RRULE: every part must be NAME=VALUE, separated by ';'.")
    values = {name: value for name, _, value in parts}
    if len(values) != len(parts):
        raise RuleError("Each RRULE part may appear only once.")
    return values


def _in_range(value: str, top: int, signed: bool) -> bool:
    digits = value.removeprefix("-").removeprefix("+") if signed else value
    return digits.isdigit() and 1 <= int(digits) <= top


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    # "localtime" is whatever the host is set to, not a zone a plan can rely on.
    return frozenset(available_timezones() - {"localtime"})


def is_timezone(name: str) -> bool:
    return name in _zones()


def _rule(text: str, zone: str, starts_at: datetime) -> rrule:
    return rrulestr(text, dtstart=starts_at.astimezone(ZoneInfo(zone)))


def first(text: str, zone: str, starts_at: datetime) -> datetime | None:
    """The rule's first occurrence from ``starts_at`` on, or None if it never occurs."""
    found = _rule(text, zone, starts_at).after(starts_at, inc=True)
    return found.astimezone(UTC) if found else None


def occurrences(
    text: str, zone: str, starts_at: datetime, start: datetime, end: datetime, limit: int
) -> list[datetime]:
    """Occurrences in [start, end] as UTC times; TooManyOccurrences past ``limit``."""
    found: list[datetime] = []
    for local in _rule(text, zone, starts_at).xafter(start, inc=True):
        if local > end:
            break
        if len(found) == limit:
            raise TooManyOccurrences(limit)
        found.append(local.astimezone(UTC))
    return found


def next_n(text: str, zone: str, starts_at: datetime, start: datetime, n: int) -> list[datetime]:
    """The rule's next ``n`` occurrences from ``start`` (fewer if it ends), in UTC."""
    found: list[datetime] = []
    for local in _rule(text, zone, starts_at).xafter(start, inc=True):
        found.append(local.astimezone(UTC))
        if len(found) == n:
            break
    return found


_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}


def longest_gap_days(text: str, zone: str, starts_at: datetime, now: datetime) -> int:
    """A plan's coverage policy (shared.coverage): the longest gap between two of its
    next occurrences from ``now``, in whole days (at least 1)."""
    due = next_n(text, zone, starts_at, max(now, starts_at), 13)
    if len(due) < 2:
        parts = _parts(text)
        return _PERIOD_DAYS.get(parts.get("FREQ", ""), 1) * int(parts.get("INTERVAL", 1))
    return max(1, math.ceil(max(b - a for a, b in itertools.pairwise(due)) / timedelta(days=1)))
