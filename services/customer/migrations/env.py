from services.customer import models_exports, models_ops  # noqa: F401 - registers its tables
from services.customer.models import Base
from shared.migrations import run_env

run_env(Base.metadata)
