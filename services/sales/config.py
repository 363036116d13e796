"""The sales service's settings, read from ``SALES_*`` / ``RAPPORT_*``.

- ``SALES_TIMEZONE`` (default ``Asia/Hong_Kong``): the local day an entry counts on
  in the P&L; the summary is bucketed in it, so changing it means rebuilding it.
- ``SALES_ALLOCATION_RULE`` (``calls`` or ``revenue``, default ``calls``): how an
  allocation is apportioned to customers when the request names no rule.
- ``SALES_RETURN_WINDOW_DAYS`` (default 30): a return later than this after its sale
  is accepted and listed as an irregularity.
- ``SALES_STUCK_DEAL_DAYS`` (default 30): an open deal this long in one stage is
  listed as an irregularity.
"""

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.config import ConfigError, Settings

SERVICE = "sales"
MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_TIMEZONE = "Asia/Hong_Kong"
ALLOCATION_RULES = ("calls", "revenue")


def load(env=None) -> Settings:
    settings = Settings.from_env(SERVICE, env)
    timezone(settings)  # refuse to start with a setting that cannot work
    allocation_rule(settings)
    return_window_days(settings)
    stuck_deal_days(settings)
    return settings


def timezone(settings: Settings) -> ZoneInfo:
    name = settings.get("TIMEZONE", DEFAULT_TIMEZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"SALES_TIMEZONE={name!r} is not an IANA time zone") from exc


def allocation_rule(settings: Settings) -> str:
    rule = settings.get("ALLOCATION_RULE", "calls")
    if rule not in ALLOCATION_RULES:
        raise ConfigError(f"SALES_ALLOCATION_RULE={rule!r}: one of {', '.join(ALLOCATION_RULES)}")
    return rule


def _days(settings: Settings, key: str, default: int) -> int:
    value = settings.get(key, str(default))
    try:
        days = int(value)
    except ValueError:
        days = -1
    if days < 0:
        raise ConfigError(f"SALES_{key}={value!r} is not a whole number of days")
    return days


def return_window_days(settings: Settings) -> int:
    return _days(settings, "RETURN_WINDOW_DAYS", 30)


def stuck_deal_days(settings: Settings) -> int:
    return _days(settings, "STUCK_DEAL_DAYS", 30)
