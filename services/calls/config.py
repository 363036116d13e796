"""The calls service's settings, read from ``CALLS_*`` / ``RAPPORT_*``."""

from pathlib import Path

from shared.config import Settings

SERVICE = "calls"
MIGRATIONS = Path(__file__).parent / "migrations"


def load(env=None) -> Settings:
    return Settings.from_env(SERVICE, env)
