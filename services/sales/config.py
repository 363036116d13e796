"""The sales service's settings, read from ``SALES_*`` / ``RAPPORT_*``."""
from pathlib import Path

from shared.config import Settings

SERVICE = "sales"
MIGRATIONS = Path(__file__).parent / "migrations"


def load(env=None) -> Settings:
    return Settings.from_env(SERVICE, env)
