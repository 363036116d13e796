"""The sales API's application factory."""
from __future__ import annotations

from typing import Mapping

from flask import Flask

from services.sales import config
from services.sales.api import blp
from services.sales.models import IdempotencyKey, Outbox
from shared.web.app import create_service_app


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = config.load(env)
    return create_service_app(
        settings, title="Rapport sales service",
        description="The append-only sales ledger: sales with their lines, exact totals.",
        blueprints=[blp], outbox_model=Outbox,
        idempotency_model=IdempotencyKey)
