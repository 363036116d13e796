"""Every table of the service, each package's ``tables`` imported so that the one
metadata (``tables.Base``) holds them all, and ``READ_MODELS``: the tables folded
from the event log, which a rebuild empties and fills again (every table but the
outbox, the inbox and the event log itself)."""

from __future__ import annotations

from services.reporting.agents import tables as agents
from services.reporting.calls import tables as calls
from services.reporting.customers import tables as customers
from services.reporting.pnl import tables as pnl
from services.reporting.relationships import tables as relationships
from services.reporting.sales import tables as sales
from services.reporting.tables import Base, CustomerDim

PACKAGES = (calls, customers, agents, relationships, pnl, sales)
READ_MODELS = (
    CustomerDim,
    *(
        mapper.class_
        for mapper in Base.registry.mappers
        if mapper.class_.__module__ in {tables.__name__ for tables in PACKAGES}
    ),
)
