"""The sales API's application factory."""
from __future__ import annotations

from typing import Mapping

from flask import Flask

from services.sales import api, api_deals, api_pnl, api_products, config
from services.sales.imports import api as api_imports
from services.sales.models import IdempotencyKey, Outbox
from shared.web.app import create_service_app

BLUEPRINTS = (api_products.blp, api.blp, api_imports.blp, api_deals.blp,
              api_pnl.blp_allocations, api_pnl.blp_pnl, api_pnl.blp_irregularities)


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = config.load(env)
    return create_service_app(
        settings, title="Rapport sales service",
        description="Products, deals, the append-only sales ledger with returns and "
                    "cancellations, cost to serve, allocations and profit & loss.",
        blueprints=BLUEPRINTS, outbox_model=Outbox, idempotency_model=IdempotencyKey)
