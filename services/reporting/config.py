"""The reporting service's settings, read from ``REPORTING_*`` / ``RAPPORT_*``.

``REPORTING_TIMEZONE`` (default ``Asia/Hong_Kong``) decides which local day an
event counts on. The daily read models are bucketed in it, so changing it means
rebuilding them from the event log.
"""

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.config import ConfigError, Settings

SERVICE = "reporting"
MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_TIMEZONE = "Asia/Hong_Kong"


def load(env=None) -> Settings:
    settings = Settings.from_env(SERVICE, env)
    timezone(settings)  # refuse to start with a zone that does not exist
    return settings


def timezone(settings: Settings) -> ZoneInfo:
    name = settings.get("TIMEZONE", DEFAULT_TIMEZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"REPORTING_TIMEZONE={name!r} is not an IANA time zone") from exc
