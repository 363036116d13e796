"""The agent's workspace: server-rendered pages under ``/workspace`` (my queue, a
call page with its outcome form), signed in like every page (shared/web/pages.py).
Views call the API's own use cases: ``services.queue``, ``context.call_page`` and
``outcomes.record_outcome`` through ``OutcomeIn``; finding a customer and logging a
call (``find_views``) call ``find.search`` and ``unplanned.log_call``."""
from __future__ import annotations

from flask import Flask

from shared.web import pages

PREFIX = "/workspace"


def install(app: Flask) -> None:
    from services.calls.workspace import board_views, find_views, plan_views
    from services.calls.workspace.views import bp
    app.register_blueprint(bp)
    app.register_blueprint(board_views.bp)  # the manager's pages under the same prefix
    app.register_blueprint(plan_views.bp)
    app.register_blueprint(find_views.bp)  # finding a customer, logging a call
    pages.install(app, PREFIX)
