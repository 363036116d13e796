"""Idempotency-Key on a creating POST, through the customer API (the mechanism is
shared by every service)."""

import pytest
from sqlalchemy import func, select

from services.customer import config
from services.customer.app import create_app
from services.customer.privacy.tables import Consent
from services.customer.profiles.tables import Customer
from services.customer.tables import IdempotencyKey, Outbox
from shared.web import idempotency
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


def test_a_key_claimed_meanwhile_by_a_concurrent_request_replays_its_answer(
    service_app, database_url, monkeypatch
):
    """Two consent records with one key: the second checks the key before the first
    has committed, then finds it claimed when it commits its own record. Its whole
    transaction is undone and it answers what the first stored, on both databases
    (on PostgreSQL the claim goes in the transaction's last pipeline of writes)."""
    app = service_app(create_app, config.MIGRATIONS, database_url)
    client = app.test_client()
    customer_id = post(client, BODY, "k-0").json["id"]
    real, first = idempotency._stored, []

    def stored(ctx, model, owner, key):
        found = real(ctx, model, owner, key)
        if found is None and not first:  # the other request runs through meanwhile
            first.append(None)
            first.append(grant(client, customer_id))
        return found

    monkeypatch.setattr(idempotency, "_stored", stored)
    second = grant(client, customer_id)
    assert first[1].status_code == second.status_code == 201
    assert second.json == first[1].json and second.headers["Idempotent-Replayed"] == "true"
    with app.extensions["rapport"].db.reader() as s:
        assert s.scalar(select(func.count()).select_from(Consent)) == 1
        assert s.scalar(select(func.count()).select_from(IdempotencyKey)) == 2


def grant(client, customer_id):
    headers = {"Authorization": f"Bearer {make_token('agent')}", "Idempotency-Key": "k-race"}
    body = {
        "channel": "phone",
        "purpose": "insurance",
        "status": "granted",
        "source": "call",
        "notice_version": "2026-01",
    }
    return client.post(f"/api/v1/customers/{customer_id}/consents", json=body, headers=headers)


def test_a_segment_retried_with_its_key_is_created_once(app, client):
    """Without a key the retry is a 409 (the code is taken), and the client cannot
    tell its own first request from someone else's: with one, the first answer."""
    segment = {"code": "insurance", "name": "Insurance clients", "required_fields": ["phone"]}
    headers = {**auth(), "Idempotency-Key": "segment-1"}
    first = client.post("/api/v1/segments", json=segment, headers=headers)
    again = client.post("/api/v1/segments", json=segment, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201) and again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    taken = client.post("/api/v1/segments", json=segment, headers=auth())
    assert taken.status_code == 409
