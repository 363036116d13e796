"""The customer API's application factory."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from services.customer import config
from services.customer.api import blp
from services.customer.api_admin import quality_blp, segments_blp, transfer_blp
from services.customer.api_exports import exports_blp
from services.customer.models import IdempotencyKey, Outbox, PeriodicJob
from shared.web import periodic_jobs
from shared.web.app import create_service_app


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = config.load(env)
    return create_service_app(
        settings, title="Rapport customer service",
        description="Customer profiles, the permanent activity record, data quality and consent.",
        blueprints=[blp, transfer_blp, segments_blp, quality_blp, exports_blp,
                    periodic_jobs.blueprint(PeriodicJob)], outbox_model=Outbox,
        idempotency_model=IdempotencyKey)
