"""Rate limits per partner and per token, counted in the real local Redis so that
every worker and replica counts the same: two app instances share the counts, the
request over the limit gets 429 problem+json with Retry-After, the next window is
open again, and Redis being away lets requests through (logged and counted)."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from prometheus_client import REGISTRY

from services.customer import config as customer_config
from services.customer.app import create_app as customer_app
from shared.auth import issue_token
from shared.config import DEV_SECRET, ConfigError
from shared.redis_state import Limit

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_url():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc!r}")
    return REDIS_URL


def _apps(service_app, tmp_path, count=2, **settings):
    """``count`` instances of the customer service on one database and one Redis
    prefix, as replicas are."""
    url = f"sqlite:///{tmp_path / 'customer.db'}"
    return [
        service_app(customer_app, customer_config.MIGRATIONS, url, **settings) for _ in range(count)
    ]


def _fresh_window(seconds: int) -> None:
    """Wait for a window to begin, so that a test's requests fall in one window."""
    time.sleep(seconds - time.time() % seconds + 0.01)


def _get(app, token):
    return app.test_client().get("/api/v1/customers", headers={"Authorization": f"Bearer {token}"})


def test_a_tokens_count_is_shared_by_every_instance_then_the_window_opens_again(
    redis_url, service_app, tmp_path
):
    one, two = _apps(
        service_app,
        tmp_path,
        REDIS_URL=redis_url,
        REDIS_PREFIX=f"t-{uuid.uuid4().hex}",
        RATE_LIMIT_TOKEN="4/3second",
    )
    token = issue_token(DEV_SECRET, "alice", "analyst")
    other = issue_token(DEV_SECRET, "bob", "analyst")
    _fresh_window(3)
    assert [_get(app, token).status_code for app in (one, two, one, two)] == [200] * 4
    refused = _get(one, token)
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 3 and refused.json["retry_after"] == wait
    assert "token rate limit" in refused.json["detail"]
    assert _get(two, token).status_code == 429  # the other instance knows it too
    assert _get(two, other).status_code == 200  # another token has its own count
    time.sleep(wait)
    assert _get(two, token).status_code == 200


def test_a_partners_tokens_share_its_limit(redis_url, service_app, tmp_path):
    one, two = _apps(
        service_app,
        tmp_path,
        REDIS_URL=redis_url,
        REDIS_PREFIX=f"t-{uuid.uuid4().hex}",
        RATE_LIMIT_PARTNER="3/3second",
        RATE_LIMIT_TOKEN="off",
    )
    tokens = [issue_token(DEV_SECRET, f"agent{n}", "partner", "acme") for n in range(4)]
    rival = issue_token(DEV_SECRET, "x", "partner", "globex")
    _fresh_window(3)
    # A partner may not read customers (403), but every request it sends counts.
    assert [_get(app, t).status_code for app, t in zip((one, two, one), tokens)] == [403] * 3
    refused = _get(two, tokens[3])
    assert refused.status_code == 429 and "partner rate limit" in refused.json["detail"]
    assert _get(one, rival).status_code == 403
    assert (
        REGISTRY.get_sample_value(
            "rapport_rate_limited_total", {"service": "customer", "scope": "partner"}
        )
        >= 1
    )


def test_without_redis_there_are_no_limits(service_app, tmp_path):
    [app] = _apps(service_app, tmp_path, count=1, RATE_LIMIT_TOKEN="1/minute")
    token = issue_token(DEV_SECRET, "alice", "analyst")
    assert app.extensions["rapport"].shared is None
    assert [_get(app, token).status_code for _ in range(3)] == [200] * 3


def test_redis_away_lets_requests_through_logged_and_counted(service_app, tmp_path, caplog):
    [app] = _apps(
        service_app,
        tmp_path,
        count=1,
        REDIS_URL="redis://127.0.0.1:1/0",
        REDIS_PREFIX=f"t-{uuid.uuid4().hex}",
        RATE_LIMIT_TOKEN="1/minute",
    )
    token = issue_token(DEV_SECRET, "alice", "analyst")
    before = (
        REGISTRY.get_sample_value(
            "rapport_shared_state_errors_total", {"service": "customer", "use": "rate_limit"}
        )
        or 0
    )
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="shared.redis_state"):
        assert [_get(app, token).status_code for _ in range(5)] == [200] * 5
    assert time.monotonic() - started < 3  # one failed attempt, not one per request
    assert any("letting requests through" in r.getMessage() for r in caplog.records)
    assert (
        REGISTRY.get_sample_value(
            "rapport_shared_state_errors_total", {"service": "customer", "use": "rate_limit"}
        )
        == before + 1
    )


@pytest.mark.parametrize(
    "text, limit",
    [
        ("600/minute", Limit(600, 60)),
        ("50/10second", Limit(50, 10)),
        ("10 / hours", Limit(10, 3600)),
        ("off", None),
        ("", None),
    ],
)
def test_limits_are_written_as_count_per_period(text, limit):
    assert Limit.parse(text, "X") == limit


@pytest.mark.parametrize("text", ["600", "ten/minute", "5/fortnight", "0/minute"])
def test_a_malformed_limit_stops_the_start(text):
    with pytest.raises(ConfigError):
        Limit.parse(text, "X")


def test_the_documents_say_where_429_may_be_answered(service_app, tmp_path):
    from services.calls import config as calls_config
    from services.calls.app import create_app as calls_app

    app = service_app(calls_app, calls_config.MIGRATIONS, f"sqlite:///{tmp_path / 'c.db'}")
    paths = app.test_client().get("/api/docs/openapi.json").get_json()["paths"]
    assert "429" in paths["/api/v1/partner/calls"]["get"]["responses"]
    # No token there, but attempts are limited per client id (its own 429).
    assert "429" in paths["/api/v1/oauth/token"]["post"]["responses"]
    assert "security" in paths["/api/v1/oauth/token"]["post"]
    response = (
        app.test_client()
        .get("/api/docs/openapi.json")
        .get_json()["components"]["responses"]["TOO_MANY_REQUESTS"]
    )
    assert "Retry-After" in response["headers"]
