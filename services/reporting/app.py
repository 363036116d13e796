"""The reporting API's application factory."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from services.reporting import config
from services.reporting.api import blp
from services.reporting.dashboard import page
from services.reporting.tables import Outbox
from shared.web.app import create_service_app


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = config.load(env)
    return create_service_app(
        settings,
        title="Rapport reporting service",
        description="Read models fed by every event, and the reports answered from them.",
        blueprints=[blp],
        outbox_model=Outbox,
        setup=page.install,
    )
