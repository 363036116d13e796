"""The customer service's settings, read from ``CUSTOMER_*`` / ``RAPPORT_*``."""

from pathlib import Path

from shared.config import Settings

SERVICE = "customer"
MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_EXPORT_TIMEOUT_SECONDS = 300


def load(env=None) -> Settings:
    settings = Settings.from_env(SERVICE, env)
    export_timeout(settings)  # a misspelt setting stops the service at start, not a request
    return settings


def export_timeout(settings: Settings) -> float:
    """How long an export across services waits for every service's answer
    (``CUSTOMER_EXPORT_TIMEOUT_SECONDS``, 300 by default)."""
    raw = settings.get("EXPORT_TIMEOUT_SECONDS", DEFAULT_EXPORT_TIMEOUT_SECONDS)
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(
            f"EXPORT_TIMEOUT_SECONDS must be a number of seconds, not {raw!r}"
        ) from None
    if not seconds >= 0:  # 0: a job not answered at once is incomplete (tests)
        raise ValueError(f"EXPORT_TIMEOUT_SECONDS must not be negative, not {raw!r}")
    return seconds
