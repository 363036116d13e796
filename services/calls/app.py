"""The calls API's application factory."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, g

from services.calls import config
from services.calls.calls.routes import calls, queue_bp
from services.calls.customers.search_routes import customers_bp
from services.calls.db import IdempotencyKey, Outbox, PeriodicJob
from services.calls.notifications.routes import (
    partner_withdrawals_bp,
    webhooks_bp,
    withdrawals_bp,
)
from services.calls.partner import clients as partner_clients
from services.calls.partner.client_routes import clients_bp, oauth_bp
from services.calls.partner.portal import pages as portal_pages
from services.calls.partner.routes import audit_bp, partner_bp
from services.calls.people.calendar_routes import calendar_bp
from services.calls.people.routes import people_bp
from services.calls.plans.planning_routes import planning
from services.calls.plans.routes import plans
from services.calls.workspace import pages as workspace_pages
from shared.errors import Unauthorized
from shared.web import periodic_jobs
from shared.web.app import create_service_app


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = config.load(env)
    return create_service_app(
        settings,
        title="Rapport calls service",
        description="Call plans, scheduled calls and their outcomes.",
        blueprints=[
            plans,
            planning,
            people_bp,
            calls,
            queue_bp,
            partner_bp,
            audit_bp,
            periodic_jobs.blueprint(PeriodicJob),
            webhooks_bp,
            withdrawals_bp,
            partner_withdrawals_bp,
            calendar_bp,
            customers_bp,
            clients_bp,
            oauth_bp,
        ],
        outbox_model=Outbox,
        idempotency_model=IdempotencyKey,
        setup=_setup,
    )


def _setup(app: Flask) -> None:
    workspace_pages.install(app)
    portal_pages.install(app)

    @app.before_request
    def _client_not_revoked():
        """A partner client's token is refused here as soon as the client is
        revoked, whether or not the shared state has heard of it."""
        caller = g.get("principal")
        if caller is not None and caller.client_id:
            why = partner_clients.check_caller(app.extensions["rapport"].uow, caller)
            if why:
                raise Unauthorized(f"the token is not valid: {why}")
