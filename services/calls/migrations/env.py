"""The calls service's Alembic environment: its own metadata, run by ``shared.migrations``."""
from services.calls.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
