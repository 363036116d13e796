# Every aggregate's tables, so the service's metadata holds them all.
from services.customer.imports import tables as import_tables  # noqa: F401
from services.customer.privacy import tables as privacy_tables  # noqa: F401
from services.customer.profiles import tables as profile_tables  # noqa: F401
from services.customer.quality import tables as quality_tables  # noqa: F401
from services.customer.relationship import tables as relationship_tables  # noqa: F401
from services.customer.segments import tables as segment_tables  # noqa: F401
from services.customer.tables import Base
from shared.migrations import run_env

run_env(Base.metadata)
