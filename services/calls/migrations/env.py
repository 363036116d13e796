"""The calls service's Alembic environment: its own metadata, run by ``shared.migrations``."""

from services.calls.tables import metadata
from shared.migrations import run_env

run_env(metadata)
