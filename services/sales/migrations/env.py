# noqa below: importing them registers their tables
from services.sales import models_costs, models_deals, models_imports  # noqa: F401
from services.sales.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
