"""The interactive API docs' script and styles, served by the service itself.

The page at ``/api/docs/`` (flask-smorest's) loads Swagger UI from ``URL``; the files
come from the installed flask-swagger-ui distribution, so the docs work on a network
without the internet and show exactly the Swagger UI version the lock file pins.
"""

from __future__ import annotations

from importlib.resources import files

from flask import Flask, abort, send_from_directory

URL = "/api/docs/assets/"
# What the page loads; nothing else of the distribution is served.
ASSETS = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
        "favicon-16x16.png",
    }
)
MAX_AGE_SECONDS = 24 * 3600


def folder() -> str:
    return str(files("flask_swagger_ui") / "dist")


def install(app: Flask) -> None:
    @app.get(f"{URL}<name>")
    def swagger_ui_asset(name: str):
        if name not in ASSETS:
            abort(404)
        return send_from_directory(folder(), name, max_age=MAX_AGE_SECONDS)
