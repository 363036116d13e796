"""The calls API's application factory."""
from __future__ import annotations

from typing import Mapping

from flask import Flask

from services.calls import config
from services.calls.api import calls, plans
from services.calls.models import IdempotencyKey, Outbox
from shared.web.app import create_service_app


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    settings = config.load(env)
    return create_service_app(
        settings, title="Rapport calls service",
        description="Call plans, scheduled calls and their outcomes.",
        blueprints=[plans, calls], outbox_model=Outbox,
        idempotency_model=IdempotencyKey)
