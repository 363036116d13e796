"""The interactive API docs load Swagger UI from the service itself, not from a CDN:
the page names no other host, and every asset it names answers from the installed
distribution, without a token."""

from __future__ import annotations

import re

import pytest

from shared.config import Settings
from shared.web import swagger_ui
from shared.web.app import create_service_app
from tests.shared.messaging_app import Outbox


@pytest.fixture
def client(sqlite_url):
    settings = Settings.from_env("customer", {"DATABASE_URL": sqlite_url, "DEV_MODE": "1"})
    app = create_service_app(
        settings, title="t", description="t", blueprints=[], outbox_model=Outbox
    )
    return app.test_client()


def test_the_docs_page_names_no_other_host_and_each_of_its_assets_answers(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert not re.search(r"(src|href)=\"(https?:)?//", html), html
    assets = re.findall(r"(?:src|href)=\"([^\"]+)\"", html)
    assert {a.rsplit("/", 1)[1] for a in assets} == {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    }
    for asset in assets:
        assert asset.startswith(swagger_ui.URL)
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert len(answer.data) > 1000
        assert answer.mimetype in ("text/css", "text/javascript", "application/javascript")


def test_only_the_listed_assets_are_served(client):
    assert client.get(f"{swagger_ui.URL}favicon-32x32.png").status_code == 200
    for name in ("VERSION", "..%2F__init__.py", "oauth2-redirect.html", "nothing.js"):
        answer = client.get(f"{swagger_ui.URL}{name}")
        assert answer.status_code == 404
        assert answer.mimetype == "application/problem+json"
