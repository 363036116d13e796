# Imported for their tables, which then register on Base.metadata.
from services.sales.catalogue import tables as catalogue  # noqa: F401
from services.sales.customers import tables as customers  # noqa: F401
from services.sales.db import Base
from services.sales.deals import tables as deals  # noqa: F401
from services.sales.imports import tables as imports  # noqa: F401
from services.sales.ledger import tables as ledger  # noqa: F401
from services.sales.pnl import tables as pnl  # noqa: F401
from shared.migrations import run_env

run_env(Base.metadata)
