"""The calls API's application factory."""
from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, g

from services.calls import config, partner_clients, portal, workspace
from services.calls.call_routes import calls, queue_bp
from services.calls.calendar_api import calendar_bp
from services.calls.find_api import customers_bp
from services.calls.models import IdempotencyKey, Outbox, PeriodicJob
from services.calls.partner_api import audit_bp, partner_bp
from services.calls.partner_clients_api import clients_bp, oauth_bp
from services.calls.people_api import people_bp
from services.calls.plan_routes import plans
from services.calls.planning_api import planning
from services.calls.webhooks_api import (
    partner_withdrawals_bp,
    webhooks_bp,
    withdrawals_bp,
)
from shared.web import periodic_jobs
from shared.errors import Unauthorized
from shared.web.app import create_service_app


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = config.load(env)
    return create_service_app(
        settings, title="Rapport calls service",
        description="Call plans, scheduled calls and their outcomes.",
        blueprints=[plans, planning, people_bp, calls, queue_bp, partner_bp,
                    audit_bp, periodic_jobs.blueprint(PeriodicJob),
                    webhooks_bp, withdrawals_bp, partner_withdrawals_bp, calendar_bp,
                    customers_bp, clients_bp, oauth_bp],
        outbox_model=Outbox, idempotency_model=IdempotencyKey, setup=_setup)


def _setup(app: Flask) -> None:
    workspace.install(app)
    portal.install(app)

    @app.before_request
    def _client_not_revoked():
        """A partner client's token is refused here as soon as the client is
        revoked, whether or not the shared state has heard of it."""
        caller = g.get("principal")
        if caller is not None and caller.client_id:
            why = partner_clients.check_caller(app.extensions["rapport"].uow, caller)
            if why:
                raise Unauthorized(f"the token is not valid: {why}")
