from services.reporting import read_models  # noqa: F401 - registers every package's tables
from services.reporting.tables import Base
from shared.migrations import run_env

run_env(Base.metadata)
