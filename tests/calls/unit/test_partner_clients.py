"""Partners' OAuth2 clients: an admin makes one (its secret shown once, stored only
hashed), the client gets a short-lived partner token at /oauth/token by the
client-credentials grant (RFC 6749 §4.4) and works the partner API with it; every
malformed or unauthorised grant gets the RFC's error; revoking the client refuses
its token already issued, on the calls API at once and, through the shared Redis
state, on the other services too."""

from __future__ import annotations

import base64
import uuid
from urllib.parse import quote_plus

import pytest
from sqlalchemy import select

from services.calls.partner.tables import PartnerClient
from services.customer import config as customer_config
from services.customer.app import create_app as customer_app
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    build_app,
    calls_of,
    create_plan,
    project,
    schedule,
)
from tests.conftest import auth

TOKEN = "/api/v1/oauth/token"


def _client(client, partner_id, name="dialler"):
    made = client.post(
        f"/api/v1/partners/{partner_id}/clients", headers=auth("admin"), json={"name": name}
    )
    assert made.status_code == 201, made.json
    return made.json


def _grant(client, client_id, secret, **form):
    return client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            **form,
        },
    )


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _basic(client_id, secret):
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.fixture
def partner(client):
    return add_partner(client, "Acme")


def test_a_client_works_the_partner_api_with_its_token(app, client, partner):
    project(app, "c1")
    add_agent(client, "agent-a", kind="partner", partner_id=partner["id"])
    schedule(client, create_plan(client)["id"], days=7)
    assign(client)
    assert any(c["partner_id"] == partner["id"] for c in calls_of(client))

    made = _client(client, partner["id"])
    assert made["status"] == "active" and made["client_id"].startswith("pc_")
    with app.extensions["rapport"].db.reader() as session:
        stored = session.scalar(select(PartnerClient.secret_hash))
    assert made["client_secret"] not in stored and stored.startswith("scrypt$")

    granted = _grant(client, made["client_id"], made["client_secret"])
    assert granted.status_code == 200 and granted.mimetype == "application/json"
    assert granted.json["token_type"] == "Bearer" and granted.json["expires_in"] == 900
    assert granted.headers["Cache-Control"] == "no-store"
    calls = client.get("/api/v1/partner/calls", headers=_bearer(granted.json["access_token"]))
    assert calls.status_code == 200 and calls.json["items"]

    listed = client.get(f"/api/v1/partners/{partner['id']}/clients", headers=auth("manager"))
    [row] = listed.json["items"]
    assert "client_secret" not in row and row["last_token_at"]


def test_http_basic_authenticates_the_client_too(client, partner):
    made = _client(client, partner["id"])
    granted = client.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers=_basic(made["client_id"], made["client_secret"]),
    )
    assert granted.status_code == 200, granted.json
    assert (
        client.get(
            "/api/v1/partner/calls", headers=_bearer(granted.json["access_token"])
        ).status_code
        == 200
    )


def test_the_token_lasts_as_configured(service_app, sqlite_url):
    client = build_app(service_app, sqlite_url, PARTNER_TOKEN_SECONDS="120").test_client()
    made = _client(client, add_partner(client, "Acme")["id"])
    assert _grant(client, made["client_id"], made["client_secret"]).json["expires_in"] == 120


def test_every_bad_grant_gets_the_rfcs_error_and_no_token(client, partner):
    made = _client(client, partner["id"])
    cid, secret = made["client_id"], made["client_secret"]

    def error(answer, status, code):
        assert answer.status_code == status, answer.json
        assert answer.json["error"] == code and "access_token" not in answer.json
        if status == 401:
            assert answer.headers["WWW-Authenticate"].startswith("Basic")

    error(_grant(client, cid, secret + "x"), 401, "invalid_client")
    error(_grant(client, "pc_nobody", secret), 401, "invalid_client")
    error(client.post(TOKEN, data={"grant_type": "client_credentials"}), 401, "invalid_client")
    error(_grant(client, cid, secret, grant_type="password"), 400, "unsupported_grant_type")
    error(
        client.post(TOKEN, data={"client_id": cid, "client_secret": secret}), 400, "invalid_request"
    )
    error(
        client.post(
            TOKEN,
            json={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
        ),
        400,
        "invalid_request",
    )
    error(
        client.post(
            TOKEN,
            data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
            headers=_basic(cid, secret),
        ),
        400,
        "invalid_request",
    )
    error(
        client.post(
            TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic !!!"}
        ),
        401,
        "invalid_client",
    )
    client.patch(f"/api/v1/partners/{partner['id']}", headers=auth(), json={"status": "suspended"})
    error(_grant(client, cid, secret), 400, "unauthorized_client")


def test_only_admins_make_and_revoke_clients(client, partner):
    made = client.post(
        f"/api/v1/partners/{partner['id']}/clients", headers=auth("manager"), json={"name": "x"}
    )
    assert made.status_code == 403
    assert (
        client.post(
            "/api/v1/partners/nope/clients", headers=auth("admin"), json={"name": "x"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/partners/{partner['id']}/clients", headers=auth("admin"), json={"name": " "}
        ).status_code
        == 422
    )
    cid = _client(client, partner["id"])["client_id"]
    assert (
        client.delete(
            f"/api/v1/partners/{partner['id']}/clients/{cid}", headers=auth("manager")
        ).status_code
        == 403
    )
    assert (
        client.delete(f"/api/v1/partners/other/clients/{cid}", headers=auth("admin")).status_code
        == 404
    )


def test_a_revoked_clients_token_is_refused_by_the_calls_api_at_once(client, partner):
    made = _client(client, partner["id"])
    token = _grant(client, made["client_id"], made["client_secret"]).json["access_token"]
    assert client.get("/api/v1/partner/calls", headers=_bearer(token)).status_code == 200
    revoked = client.delete(
        f"/api/v1/partners/{partner['id']}/clients/{made['client_id']}", headers=auth("admin")
    )
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    first = revoked.json["revoked_at"]
    refused = client.get("/api/v1/partner/calls", headers=_bearer(token))
    assert refused.status_code == 401 and "revoked" in refused.json["detail"]
    assert client.get("/api/v1/webhooks", headers=_bearer(token)).status_code == 401
    error = _grant(client, made["client_id"], made["client_secret"])
    assert error.status_code == 401 and error.json["error"] == "invalid_client"
    again = client.delete(
        f"/api/v1/partners/{partner['id']}/clients/{made['client_id']}", headers=auth("admin")
    )
    assert again.status_code == 200 and again.json["revoked_at"] == first
    # Another client of the same partner is untouched.
    other = _client(client, partner["id"], "backup")
    token = _grant(client, other["client_id"], other["client_secret"]).json["access_token"]
    assert client.get("/api/v1/partner/calls", headers=_bearer(token)).status_code == 200


def test_the_revocation_reaches_the_other_services_through_redis(service_app, tmp_path):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no local Redis: {exc!r}")
    shared = {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_PREFIX": f"t-{uuid.uuid4().hex}"}
    calls = build_app(service_app, f"sqlite:///{tmp_path / 'calls.db'}", **shared).test_client()
    customer = service_app(
        customer_app, customer_config.MIGRATIONS, f"sqlite:///{tmp_path / 'customer.db'}", **shared
    ).test_client()
    partner = add_partner(calls, "Acme")
    made = _client(calls, partner["id"])
    token = _grant(calls, made["client_id"], made["client_secret"]).json["access_token"]
    # The customer service knows the token (a partner may not read customers: 403) ...
    assert customer.get("/api/v1/customers", headers=_bearer(token)).status_code == 403
    calls.delete(
        f"/api/v1/partners/{partner['id']}/clients/{made['client_id']}", headers=auth("admin")
    )
    # ... and refuses it once the client is revoked, without reading calls' database.
    refused = customer.get("/api/v1/customers", headers=_bearer(token))
    assert refused.status_code == 401 and "revoked" in refused.json["detail"]
    ttl = redis.Redis().ttl(f"{shared['REDIS_PREFIX']}:revoked-client:{made['client_id']}")
    assert 900 < ttl <= 1200  # as long as a token can live, and its clock skew


def test_a_partners_clients_are_listed_a_page_at_a_time(client, partner):
    made = [_client(client, partner["id"], f"client {n}")["client_id"] for n in range(3)]
    _client(client, add_partner(client, "Globex")["id"])  # another partner's: not listed
    url = f"/api/v1/partners/{partner['id']}/clients"
    first = client.get(url, headers=auth("manager"), query_string={"limit": 2}).json
    rest = client.get(
        url, headers=auth("manager"), query_string={"limit": 2, "cursor": first["next_cursor"]}
    ).json
    assert [c["client_id"] for c in first["items"] + rest["items"]] == made
    assert rest["next_cursor"] is None
    assert client.get("/api/v1/partners/nope/clients", headers=auth()).status_code == 404
    assert client.get(url, headers=auth("agent")).status_code == 403


def test_attempts_at_the_token_endpoint_are_limited_per_client_across_replicas(
    service_app, tmp_path
):
    """Every attempt costs a deliberately slow secret hash: a client id gets so many a
    window, counted in Redis across both instances; another client is unaffected."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no local Redis: {exc!r}")
    shared = {
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "REDIS_PREFIX": f"t-{uuid.uuid4().hex}",
        "RATE_LIMIT_TOKEN_ENDPOINT": "3/minute",
    }
    url = f"sqlite:///{tmp_path / 'calls.db'}"
    one = build_app(service_app, url, **shared).test_client()
    two = build_app(service_app, url, **shared).test_client()
    partner = add_partner(one, "Acme")
    made, other = _client(one, partner["id"]), _client(one, partner["id"], "other")
    assert _grant(one, made["client_id"], "wrong").status_code == 401
    assert _grant(two, made["client_id"], "wrong").status_code == 401
    assert _grant(one, made["client_id"], made["client_secret"]).status_code == 200
    refused = _grant(two, made["client_id"], made["client_secret"])
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert _grant(two, other["client_id"], other["client_secret"]).status_code == 200
