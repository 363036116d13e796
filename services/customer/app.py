"""The customer API's application factory."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from services.customer import config
from services.customer.imports.routes import transfer_blp
from services.customer.merging import routes as merge_routes
from services.customer.privacy import routes as privacy_routes
from services.customer.privacy.export_routes import exports_blp
from services.customer.profiles.routes import blp
from services.customer.quality.routes import quality_blp
from services.customer.relationship import routes as timeline_routes
from services.customer.segments.routes import segments_blp
from services.customer.tables import IdempotencyKey, Outbox, PeriodicJob
from shared.web import periodic_jobs
from shared.web.app import create_service_app

# What these modules declare is on the customers blueprint (``blp``), beside the
# profile routes: a merge, the PDPO routes and the timeline of one customer.
ON_CUSTOMERS_BLUEPRINT = (merge_routes, privacy_routes, timeline_routes)


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = config.load(env)
    return create_service_app(
        settings,
        title="Rapport customer service",
        description="Customer profiles, the permanent activity record, data quality and consent.",
        blueprints=[
            blp,
            transfer_blp,
            segments_blp,
            quality_blp,
            exports_blp,
            periodic_jobs.blueprint(PeriodicJob),
        ],
        outbox_model=Outbox,
        idempotency_model=IdempotencyKey,
    )
