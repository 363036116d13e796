"""Idempotency-Key on a creating POST, through the customer API (the mechanism is
shared by every service)."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from services.customer import config, periodic
from services.customer.app import create_app
from services.customer.privacy.tables import Consent
from services.customer.profiles.tables import Customer
from services.customer.tables import IdempotencyKey, Outbox
from shared.clock import utcnow
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


def test_keys_past_their_keeping_are_forgotten_and_free_again(service_app, database_url):
    """The ``expire-idempotency-keys`` job (each service's relay, hourly) deletes keys
    claimed more than ``IDEMPOTENCY_KEEP_DAYS`` ago, a batch a transaction: their
    answers are not kept for nothing, and the key can be used again."""
    app = service_app(create_app, config.MIGRATIONS, database_url, IDEMPOTENCY_KEEP_DAYS="3")
    client, ctx = app.test_client(), app.extensions["rapport"]
    for n in range(5):
        assert post(client, {**BODY, "phone": f"9123 456{n}"}, f"old-{n}").status_code == 201
    with ctx.db.transaction() as s:  # claimed four days ago
        s.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(days=4)))
    assert post(client, {**BODY, "phone": "9123 4569"}, "recent").status_code == 201
    [job] = [j for j in periodic.jobs(ctx.settings, ctx.db) if j.name == "expire-idempotency-keys"]
    assert job.every == timedelta(hours=1)
    assert idempotency.expire(ctx.db, IdempotencyKey, utcnow() - timedelta(days=3), batch=2) == 5
    assert job.run(utcnow()) == 0
    with ctx.db.reader() as s:
        assert s.scalars(select(IdempotencyKey.key)).all() == ["recent"]
    # a forgotten key is free: another request under it is made, not refused as another
    again = post(client, {**BODY, "name": "Someone Else", "phone": "9123 4570"}, "old-0")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    ctx.db.dispose()


@pytest.mark.parametrize("days", ["0", "-1", "soon"])
def test_a_keeping_period_that_is_no_number_of_days_is_refused(service_app, sqlite_url, days):
    app = service_app(create_app, config.MIGRATIONS, sqlite_url, IDEMPOTENCY_KEEP_DAYS=days)
    with pytest.raises(ValueError, match=r"IDEMPOTENCY_KEEP_DAYS|invalid literal"):
        periodic.jobs(app.extensions["rapport"].settings, app.extensions["rapport"].db)


def test_segments_come_a_page_at_a_time_in_code_order(app, client):
    for code in ("zeta", "alpha", "mid", "beta"):
        assert client.post("/api/v1/segments", json={"code": code, "name": code}, headers=auth())
    codes, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = client.get("/api/v1/segments", headers=auth(), query_string=query)
        assert r.status_code == 200 and len(r.json["items"]) <= 2
        codes += [s["code"] for s in r.json["items"]]
        if (cursor := r.json["next_cursor"]) is None:
            break
    assert codes == sorted(codes) and {"zeta", "alpha", "mid", "beta"} <= set(codes)
    assert len(codes) == len(set(codes))
    bad = client.get("/api/v1/segments", headers=auth(), query_string={"cursor": "WzFd"})  # [1]
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
