from services.reporting import models_facts, models_rollups  # noqa: F401 - registers the read models
from services.reporting.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
