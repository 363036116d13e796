"""The sales API's application factory."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from services.sales import config
from services.sales.catalogue import routes as catalogue
from services.sales.db import IdempotencyKey, Outbox, PeriodicJob
from services.sales.deals import routes as deals
from services.sales.imports import api as imports
from services.sales.irregularities import routes as irregularities
from services.sales.ledger import routes as ledger
from services.sales.pnl import routes as pnl
from shared.web import periodic_jobs
from shared.web.app import create_service_app

BLUEPRINTS = (
    catalogue.blp,
    ledger.blp,
    imports.blp,
    deals.blp,
    pnl.blp_allocations,
    pnl.blp_pnl,
    irregularities.blp,
)


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = config.load(env)
    return create_service_app(
        settings,
        title="Rapport sales service",
        description="Products, deals, the append-only sales ledger with returns and "
        "cancellations, cost to serve, allocations and profit & loss.",
        blueprints=[*BLUEPRINTS, periodic_jobs.blueprint(PeriodicJob)],
        outbox_model=Outbox,
        idempotency_model=IdempotencyKey,
    )
