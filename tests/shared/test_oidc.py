"""Tokens of the company's OpenID Connect provider: verified against its JWKS (served
over HTTP by a real local server), its issuer, audience, expiry and not-before with
clock-skew leeway, keys fetched again when the provider rotates them, and only
RS256 and ES256 accepted; Rapport's own HS256 tokens keep working beside them."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from services.customer import config as customer_config
from services.customer.app import create_app as customer_app
from shared.auth import Authenticator, OidcVerifier, ProviderUnavailable, TokenError, issue_token
from shared.config import DEV_SECRET, ConfigError, Settings
from tests.support.identity_provider import IdentityProvider, Key

SECRET = "s" * 64


@pytest.fixture
def idp():
    with IdentityProvider("RS256") as provider:
        yield provider


def _verifier(idp, **kw) -> Authenticator:
    options = {
        "jwks_url": idp.jwks_url,
        "role_claim": "realm_access.roles",
        "role_map": {"crm-admins": "admin", "crm-sales": "manager", "crm-outsourcer": "partner"},
        "partner_claim": "org",
        "leeway": 30,
        "cooldown": 0,
        **kw,
    }
    return Authenticator(SECRET, OidcVerifier(idp.issuer, "rapport", **options))


def _roles(*names):
    return {"realm_access": {"roles": list(names)}}


def test_a_providers_token_gives_the_mapped_role_and_partner(idp):
    auth = _verifier(idp)
    manager = auth.verify(idp.token(sub="alice", **_roles("offline_access", "crm-sales")))
    assert (manager.subject, manager.role, manager.partner_id) == ("alice", "manager", None)
    # The most a caller holds wins; a partner's organisation comes from its claim.
    assert auth.verify(idp.token(**_roles("crm-sales", "crm-admins"))).role == "admin"
    partner = auth.verify(idp.token(sub="bob", org="acme", **_roles("crm-outsourcer")))
    assert (partner.role, partner.partner_id) == ("partner", "acme")


@pytest.mark.parametrize(
    "claims, why",
    [
        (_roles("offline_access"), "no Rapport role"),
        ({"realm_access": {"roles": "admin"}}, "no Rapport role"),  # unmapped, map in force
        ({**_roles("crm-outsourcer")}, "org"),  # partner without org
        ({**_roles("crm-sales"), "sub": None}, "sub"),
    ],
)
def test_a_token_without_a_usable_role_partner_or_subject_is_refused(idp, claims, why):
    with pytest.raises(TokenError, match=why):
        _verifier(idp).verify(idp.token(**claims))


def test_a_plain_roles_list_without_a_map_takes_rapport_role_names(idp):
    auth = _verifier(idp, role_claim="roles", role_map={})
    assert auth.verify(idp.token(roles=["viewer", "analyst"])).role == "analyst"
    assert auth.verify(idp.token(roles="agent")).role == "agent"


def test_issuer_audience_and_key_must_be_the_providers(idp):
    auth = _verifier(idp)
    with pytest.raises(TokenError, match=r"(?i)audience"):
        auth.verify(idp.token(audience="another-app", **_roles("crm-sales")))
    with pytest.raises(TokenError, match=r"(?i)issuer"):
        auth.verify(idp.token(iss="https://evil.example", **_roles("crm-sales")))
    stranger = Key("RS256")
    stranger.kid = idp.keys[0].kid  # a published key id, signed by another key
    with pytest.raises(TokenError, match="Signature"):
        auth.verify(idp.token(key=stranger, **_roles("crm-sales")))
    with pytest.raises(TokenError, match="signing key"):
        auth.verify(idp.token(key=Key("RS256"), **_roles("crm-sales")))


def test_expiry_and_not_before_are_checked_with_the_leeway(idp):
    auth = _verifier(idp, leeway=30)
    assert auth.verify(idp.token(ttl=-20, **_roles("crm-sales"))).role == "manager"
    with pytest.raises(TokenError, match="expired"):
        auth.verify(idp.token(ttl=-40, **_roles("crm-sales")))
    soon = int(time.time()) + 20
    assert auth.verify(idp.token(nbf=soon, **_roles("crm-sales"))).role == "manager"
    with pytest.raises(TokenError, match="not yet valid"):
        auth.verify(idp.token(nbf=soon + 40, **_roles("crm-sales")))


def test_a_remembered_token_still_expires(idp):
    auth = _verifier(idp, leeway=0)
    token = idp.token(ttl=1, **_roles("crm-sales"))
    assert auth.verify(token).role == "manager"
    time.sleep(1.1)
    with pytest.raises(TokenError, match="expired"):
        auth.verify(token)


def test_keys_are_cached_and_fetched_again_when_the_provider_rotates_them(idp):
    auth = _verifier(idp)
    auth.verify(idp.token(**_roles("crm-sales")))
    auth.verify(idp.token(sub="bob", **_roles("crm-sales")))
    assert idp.jwks_fetches == 1
    old = idp.keys[0]
    new = idp.rotate("ES256")
    assert auth.verify(idp.token(key=new, **_roles("crm-sales"))).role == "manager"
    assert idp.jwks_fetches == 2
    # A token of the withdrawn key, never seen before, no longer verifies.
    with pytest.raises(TokenError):
        auth.verify(idp.token(key=old, sub="carol", **_roles("crm-sales")))


def test_unknown_key_ids_refetch_at_most_once_per_cooldown(idp):
    auth = _verifier(idp, cooldown=60)
    auth.verify(idp.token(**_roles("crm-sales")))
    for _ in range(5):
        with pytest.raises(TokenError):
            auth.verify(idp.token(key=Key("RS256"), **_roles("crm-sales")))
    assert idp.jwks_fetches == 1


def test_the_jwks_is_found_by_discovery_from_the_issuer(idp):
    idp.keys = [Key("ES256")]
    settings = Settings.from_env(
        "customer",
        {
            "DEV_MODE": "1",
            "OIDC_ISSUER": idp.issuer,
            "OIDC_AUDIENCE": "rapport",
            "OIDC_ROLE_MAP": "crm-sales=manager",
            "OIDC_ROLE_CLAIM": "groups",
        },
    )
    auth = Authenticator.from_settings(settings)
    assert auth.verify(idp.token(groups=["crm-sales"])).role == "manager"


def _b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_alg_none_and_hs256_signed_with_the_public_key_are_refused(idp):
    auth = _verifier(idp)
    claims = {
        "iss": idp.issuer,
        "aud": "rapport",
        "sub": "mallory",
        "exp": int(time.time()) + 300,
        **_roles("crm-admins"),
    }
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(TokenError, match="not accepted"):
        auth.verify(unsigned)
    public_pem = (
        idp.keys[0]
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": idp.keys[0].kid})
    body = _b64(claims)
    import hashlib
    import hmac

    mac = hmac.new(public_pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
    with pytest.raises(TokenError):
        auth.verify(f"{header}.{body}.{_b64(mac)}")
    with pytest.raises(TokenError, match="not accepted"):
        auth.verify(jwt.encode(claims, "k" * 64, algorithm="HS512"))


def test_rapport_tokens_still_work_and_provider_tokens_need_a_provider(idp):
    auth = _verifier(idp)
    assert auth.verify(issue_token(SECRET, "cli", "analyst")).role == "analyst"
    without = Authenticator(SECRET)
    with pytest.raises(TokenError, match="not accepted"):
        without.verify(idp.token(**_roles("crm-sales")))


def test_an_unreachable_provider_is_the_servers_problem_not_the_callers():
    with IdentityProvider() as gone:
        token = gone.token(**_roles("crm-sales"))
        url = gone.jwks_url
    verifier = OidcVerifier(
        gone.issuer,
        "rapport",
        jwks_url=url,
        timeout=1,
        role_claim="realm_access.roles",
        role_map={"crm-sales": "manager"},
    )
    with pytest.raises(ProviderUnavailable):
        Authenticator(SECRET, verifier).verify(token)


@pytest.mark.parametrize(
    "env",
    [
        {"OIDC_ISSUER": "https://idp.example"},
        {"OIDC_ISSUER": "https://i", "OIDC_AUDIENCE": "r", "OIDC_ROLE_MAP": "crm=root"},
        {"OIDC_ISSUER": "https://i", "OIDC_AUDIENCE": "r", "OIDC_LEEWAY": "soon"},
    ],
)
def test_a_half_or_wrong_provider_configuration_stops_the_start(env):
    with pytest.raises(ConfigError):
        Authenticator.from_settings(Settings.from_env("customer", {"DEV_MODE": "1", **env}))


def test_a_service_accepts_provider_tokens_on_its_api(idp, service_app, sqlite_url):
    app = service_app(
        customer_app,
        customer_config.MIGRATIONS,
        sqlite_url,
        OIDC_ISSUER=idp.issuer,
        OIDC_AUDIENCE="rapport",
        OIDC_JWKS_URL=idp.jwks_url,
        OIDC_ROLE_CLAIM="realm_access.roles",
        OIDC_ROLE_MAP="crm-sales=manager,crm-analysts=analyst",
    )
    client = app.test_client()
    bearer = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731
    assert (
        client.get(
            "/api/v1/customers", headers=bearer(idp.token(**_roles("crm-analysts")))
        ).status_code
        == 200
    )
    assert (
        client.get(
            "/api/v1/customers", headers=bearer(issue_token(DEV_SECRET, "cli", "analyst"))
        ).status_code
        == 200
    )
    refused = client.get(
        "/api/v1/customers", headers=bearer(idp.token(audience="other", **_roles("crm-analysts")))
    )
    assert refused.status_code == 401 and "Audience" in refused.json["detail"]
    assert refused.mimetype == "application/problem+json"


def test_a_service_answers_503_while_the_providers_keys_cannot_be_fetched(service_app, sqlite_url):
    with IdentityProvider() as gone:
        token = gone.token(roles=["manager"])
    app = service_app(
        customer_app,
        customer_config.MIGRATIONS,
        sqlite_url,
        OIDC_ISSUER=gone.issuer,
        OIDC_AUDIENCE="rapport",
        OIDC_JWKS_URL=gone.jwks_url,
    )
    answer = app.test_client().get(
        "/api/v1/customers", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
    assert answer.mimetype == "application/problem+json"


def test_the_pages_sign_in_with_a_providers_token(idp, service_app, sqlite_url):
    from services.calls import config as calls_config
    from services.calls.app import create_app as calls_app

    app = service_app(
        calls_app,
        calls_config.MIGRATIONS,
        sqlite_url,
        OIDC_ISSUER=idp.issuer,
        OIDC_AUDIENCE="rapport",
        OIDC_JWKS_URL=idp.jwks_url,
    )
    client = app.test_client()
    signed_in = client.get("/workspace/", query_string={"token": idp.token(roles=["agent"])})
    assert signed_in.status_code == 303 and "rapport_token=" in signed_in.headers["Set-Cookie"]
    assert client.get("/workspace/").status_code == 200
    stranger = app.test_client().get(
        "/workspace/", query_string={"token": idp.token(audience="other", roles=["agent"])}
    )
    assert stranger.status_code == 401
