"""The calls API's application factory."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from services.calls import config, portal, workspace
from services.calls.api import calls, plans, queue_bp
from services.calls.calendar_api import calendar_bp
from services.calls.find_api import customers_bp
from services.calls.models import IdempotencyKey, Outbox, PeriodicJob
from services.calls.partner_api import audit_bp, partner_bp
from services.calls.people_api import people_bp
from services.calls.planning_api import planning
from services.calls.webhooks_api import (
    partner_withdrawals_bp,
    webhooks_bp,
    withdrawals_bp,
)
from shared.web import periodic_jobs
from shared.web.app import create_service_app


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = config.load(env)
    return create_service_app(
        settings, title="Rapport calls service",
        description="Call plans, scheduled calls and their outcomes.",
        blueprints=[plans, planning, people_bp, calls, queue_bp, partner_bp,
                    audit_bp, periodic_jobs.blueprint(PeriodicJob),
                    webhooks_bp, withdrawals_bp, partner_withdrawals_bp, calendar_bp,
                    customers_bp],
        outbox_model=Outbox, idempotency_model=IdempotencyKey, setup=_pages)


def _pages(app: Flask) -> None:
    workspace.install(app)
    portal.install(app)
