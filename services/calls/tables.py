"""Every table of the calls service, gathered on its one metadata (``db.Base``): what
Alembic's environment compares and what a test database is made from. Each package
keeps its own tables in its ``tables.py``."""

from services.calls import db
from services.calls.calls import tables as calls_tables
from services.calls.customers import tables as customers_tables
from services.calls.notifications import tables as notifications_tables
from services.calls.partner import tables as partner_tables
from services.calls.people import tables as people_tables
from services.calls.plans import tables as plans_tables

MODULES = (
    db,
    calls_tables,
    customers_tables,
    notifications_tables,
    partner_tables,
    people_tables,
    plans_tables,
)
metadata = db.Base.metadata
