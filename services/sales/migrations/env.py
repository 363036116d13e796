# Imported for their tables, which then register on Base.metadata.
from services.sales import models_costs, models_deals  # noqa: F401
from services.sales.imports import tables  # noqa: F401
from services.sales.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
