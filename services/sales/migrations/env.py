from services.sales import models_costs, models_deals  # noqa: F401 - registers their tables
from services.sales.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
