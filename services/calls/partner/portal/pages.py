"""Installing the partner portal's pages on the calls app: its blueprint under
``/portal`` and the sign-in pages it shares."""

from __future__ import annotations

from flask import Flask

from services.calls.partner.portal.views import bp
from shared.web import pages

PREFIX = "/portal"


def install(app: Flask) -> None:
    app.register_blueprint(bp)
    pages.install(app, PREFIX)
