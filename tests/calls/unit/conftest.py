"""The calls API on a migrated SQLite database."""

import pytest

from tests.calls.helpers import build_app


@pytest.fixture
def app(service_app, sqlite_url):
    return build_app(service_app, sqlite_url)


@pytest.fixture
def client(app):
    return app.test_client()
