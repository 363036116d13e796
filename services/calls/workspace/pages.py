"""Installing the workspace's pages on the calls app: its blueprints under
``/workspace`` and the sign-in pages they share."""

from __future__ import annotations

from flask import Flask

from services.calls.workspace import board_views, find_views, plan_views
from services.calls.workspace.views import bp
from shared.web import pages

PREFIX = "/workspace"


def install(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(board_views.bp)  # the manager's pages under the same prefix
    app.register_blueprint(plan_views.bp)
    app.register_blueprint(find_views.bp)  # finding a customer, logging a call
    pages.install(app, PREFIX)
