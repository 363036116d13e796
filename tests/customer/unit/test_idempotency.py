"""Idempotency-Key on a creating POST, through the customer API (the mechanism is
shared by every service)."""

import pytest
from sqlalchemy import func, select

from services.customer import config
from services.customer.app import create_app
from services.customer.profiles.tables import Customer
from services.customer.tables import Outbox
from tests.conftest import auth, make_token

BODY = {"name": "Chan Tai Man", "phone": "9123 4567", "segment": "smb"}


@pytest.fixture
def app(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url)


@pytest.fixture
def client(app):
    return app.test_client()


def counts(app):
    with app.extensions["rapport"].db.reader() as s:
        return (
            s.scalar(select(func.count()).select_from(Customer)),
            s.scalar(select(func.count()).select_from(Outbox)),
        )


def post(client, body, key, role="manager", subject="tester"):
    headers = {"Authorization": f"Bearer {make_token(role, subject)}", "Idempotency-Key": key}
    return client.post("/api/v1/customers", json=body, headers=headers)


def test_a_retry_with_the_same_key_replays_the_answer_and_changes_nothing(app, client):
    first = post(client, BODY, "k-1")
    again = post(client, BODY, "k-1")
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert counts(app) == (1, 1)


def test_the_same_key_with_another_body_is_refused(app, client):
    post(client, BODY, "k-2")
    r = post(client, {**BODY, "name": "Someone Else"}, "k-2")
    assert r.status_code == 422 and "Idempotency-Key" in r.json["errors"]
    assert counts(app) == (1, 1)


def test_a_failed_request_leaves_its_key_free(app, client):
    assert post(client, {**BODY, "phone": "12"}, "k-3").status_code == 422
    assert counts(app) == (0, 0)
    assert post(client, BODY, "k-3").status_code == 201
    assert counts(app) == (1, 1)


def test_keys_belong_to_their_caller(app, client):
    assert post(client, BODY, "shared-key", subject="alice").status_code == 201
    r = post(client, {**BODY, "phone": "9123 4568"}, "shared-key", subject="bob")
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert counts(app) == (2, 2)


@pytest.mark.parametrize("key", ["", "x" * 201, "with space"])
def test_a_malformed_key_is_refused(app, client, key):
    r = client.post("/api/v1/customers", json=BODY, headers={**auth(), "Idempotency-Key": key})
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert counts(app) == (0, 0)


def test_without_a_key_every_post_creates(app, client):
    client.post("/api/v1/customers", json=BODY, headers=auth())
    client.post("/api/v1/customers", json={**BODY, "phone": "9123 4568"}, headers=auth())
    assert counts(app) == (2, 2)
