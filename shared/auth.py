"""Bearer tokens: who the caller is, its role and, for partners, its partner id.

Two kinds of token are accepted, told apart by the algorithm in the token's header:

* **Rapport's own** (HS256, signed with ``RAPPORT_AUTH_SECRET``): issued by
  ``rapport-token --role manager --subject alice`` for development and internal use
  (the built-in secret exists only with ``RAPPORT_DEV_MODE=1``), and by the calls
  service's token endpoint to partner OAuth2 clients (short-lived, with
  ``client_id`` and ``jti`` claims; refused once the client is revoked).
* **The company's OpenID Connect provider's** (RS256 or ES256), when
  ``RAPPORT_OIDC_ISSUER`` and ``RAPPORT_OIDC_AUDIENCE`` are set: verified against the
  provider's published keys (JWKS), with its issuer, audience, expiry and not-before
  checked under ``RAPPORT_OIDC_LEEWAY`` seconds of clock skew; the role and partner
  id come from configurable claims. See docs/security.md.

No other algorithm is accepted (``none`` included), and an HS256 token is only ever
checked against Rapport's secret, never against a provider's public key.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt

from shared.cli import Failed, command
from shared.config import ConfigError, Settings

log = logging.getLogger(__name__)

ROLES = ("admin", "manager", "agent", "analyst", "partner")
ISSUER = "rapport"
AUDIENCE = "rapport-api"
OIDC_ALGORITHMS = ("RS256", "ES256")


class TokenError(ValueError):
    pass


class ProviderUnavailable(RuntimeError):
    """The identity provider's keys could not be fetched: not the caller's fault."""


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    partner_id: str | None = None
    client_id: str | None = None  # a partner OAuth2 client's token
    token_id: str | None = None  # the token's jti, or a digest of the token
    expires_at: float | None = None


def issue_token(
    secret: str,
    subject: str,
    role: str,
    partner_id: str | None = None,
    ttl: timedelta = timedelta(hours=8),
    client_id: str | None = None,
) -> str:
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if (role == "partner") != bool(partner_id):
        raise TokenError("a partner token needs a partner id, and only a partner token has one")
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "role": role,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
    }
    if partner_id:
        claims["partner_id"] = partner_id
    if client_id:
        claims["client_id"] = client_id
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(secret: str, token: str) -> Principal:
    """A Rapport-issued (HS256) token's principal; raises TokenError."""
    principal = _verified(secret, token)
    assert principal.expires_at is not None  # a verified token has an exp
    if time.time() >= principal.expires_at:
        raise TokenError("Signature has expired")
    return principal


@lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> Principal:
    """Signature and claims checked once per token (a client sends the same one
    many times); the expiry is checked again on every use by the caller. A token
    that fails raises, and failures are not cached."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "role"]},
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    role = claims.get("role")
    if role not in ROLES or (role == "partner") != bool(claims.get("partner_id")):
        raise TokenError("token carries no valid role")
    client_id = claims.get("client_id")
    if client_id is not None and (role != "partner" or not claims.get("jti")):
        raise TokenError("a client's token is a partner's, with a token id")
    return Principal(
        subject=claims["sub"],
        role=role,
        partner_id=claims.get("partner_id"),
        client_id=client_id,
        token_id=claims.get("jti") or _digest(token),
        expires_at=float(claims["exp"]),
    )


@lru_cache(maxsize=4096)
def _algorithm(token: str):
    """The algorithm a token's header names, read once per token: PyJWT decodes and
    checks every character of the whole token to read its header, the most costly
    part of a request's token check once the signature check is cached. The header
    only says which verifier to ask; each verifies the token itself. A token that
    fails raises, and failures are not cached."""
    try:
        return jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def _claim(claims: Mapping, path: str):
    """``realm_access.roles`` -> claims["realm_access"]["roles"]; a claim whose own
    name holds dots (some providers use URLs) is found whole first."""
    if path in claims:
        return claims[path]
    value = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _role_map(text: str) -> dict[str, str]:
    """``"crm-admins=admin,crm-sales=manager"`` -> {"crm-admins": "admin", ...}."""
    mapping = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        name, sep, role = pair.partition("=")
        if not sep or role.strip() not in ROLES or not name.strip():
            raise ConfigError(
                f"RAPPORT_OIDC_ROLE_MAP: {pair!r} is not <provider role>=<role>"
                f" with a role among {', '.join(ROLES)}"
            )
        mapping[name.strip()] = role.strip()
    return mapping


class OidcVerifier:
    """Tokens of one OpenID Connect provider, checked against its JWKS.

    The key set is fetched on first use (not at start, so a service starts while the
    provider is away), cached, and fetched again when a token names a key id it does
    not hold: the provider rotated its keys. Refetches for unknown key ids are at
    most one per ``cooldown`` seconds, so made-up key ids cannot flood the provider.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        role_claim: str = "roles",
        role_map: Mapping[str, str] | None = None,
        partner_claim: str = "partner_id",
        subject_claim: str = "sub",
        leeway: float = 60,
        cooldown: float = 30,
        timeout: float = 5,
    ):
        self.issuer, self.audience = issuer, audience
        self.role_claim, self.partner_claim = role_claim, partner_claim
        self.subject_claim = subject_claim
        self.role_map = dict(role_map or {})
        self.leeway, self.cooldown, self.timeout = leeway, cooldown, timeout
        self._jwks_url = jwks_url
        self._client: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()
        self._cache: dict[str, Principal] = {}

    def _keys(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._client is None:
                url = self._jwks_url or self._discover()
                self._client = jwt.PyJWKClient(
                    url,
                    cache_keys=False,
                    cache_jwk_set=True,
                    lifespan=3600,
                    timeout=self.timeout,
                    cooldown_duration=self.cooldown,
                )
            return self._client

    def _discover(self) -> str:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                document = json.load(response)
        except (OSError, ValueError) as exc:
            raise ProviderUnavailable(
                f"the identity provider's discovery document ({url}) could not be read: {exc}"
            ) from exc
        if document.get("issuer") != self.issuer or not document.get("jwks_uri"):
            raise ProviderUnavailable(f"{url} names another issuer or no jwks_uri")
        return document["jwks_uri"]

    def verify(self, token: str) -> Principal:
        principal = self._cache.get(token)
        if principal is None:
            principal = self._verified(token)
            if len(self._cache) >= 4096:
                self._cache.clear()
            self._cache[token] = principal
        assert principal.expires_at is not None  # a verified token has an exp
        if time.time() >= principal.expires_at + self.leeway:
            raise TokenError("Signature has expired")
        return principal

    def _verified(self, token: str) -> Principal:
        try:
            key = self._keys().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise ProviderUnavailable(
                f"the identity provider's keys could not be fetched: {exc}"
            ) from exc
        except jwt.PyJWKSetError as exc:
            raise ProviderUnavailable(
                f"the identity provider's key set is unusable: {exc}"
            ) from exc
        except jwt.PyJWKClientError as exc:
            raise TokenError(str(exc)) from exc
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=list(OIDC_ALGORITHMS),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        subject = _claim(claims, self.subject_claim)
        if not isinstance(subject, str) or not subject:
            raise TokenError(f"the token has no {self.subject_claim} claim")
        role = self._role(claims)
        partner_id = _claim(claims, self.partner_claim) if role == "partner" else None
        if role == "partner" and (not isinstance(partner_id, str) or not partner_id):
            raise TokenError(f"a partner's token needs its {self.partner_claim} claim")
        return Principal(
            subject=subject,
            role=role,
            partner_id=partner_id,
            token_id=claims.get("jti") or _digest(token),
            expires_at=float(claims["exp"]),
        )

    def _role(self, claims: Mapping) -> str:
        held = _claim(claims, self.role_claim)
        held = [held] if isinstance(held, str) else held if isinstance(held, list) else []
        mapped = {
            self.role_map.get(name, name if not self.role_map else None)
            for name in held
            if isinstance(name, str)
        }
        for role in ROLES:  # the most a caller holds, admin first
            if role in mapped:
                return role
        raise TokenError(f"the token's {self.role_claim} claim holds no Rapport role")


def oidc_from_settings(settings: Settings) -> OidcVerifier | None:
    issuer, audience = settings.get("OIDC_ISSUER"), settings.get("OIDC_AUDIENCE")
    if not issuer and not audience:
        return None
    if not issuer or not audience:
        raise ConfigError("RAPPORT_OIDC_ISSUER and RAPPORT_OIDC_AUDIENCE go together")
    try:
        return OidcVerifier(
            issuer,
            audience,
            jwks_url=settings.get("OIDC_JWKS_URL"),
            role_claim=settings.get("OIDC_ROLE_CLAIM", "roles"),
            role_map=_role_map(settings.get("OIDC_ROLE_MAP", "")),
            partner_claim=settings.get("OIDC_PARTNER_CLAIM", "partner_id"),
            subject_claim=settings.get("OIDC_SUBJECT_CLAIM", "sub"),
            leeway=float(settings.get("OIDC_LEEWAY", 60)),
            cooldown=float(settings.get("OIDC_JWKS_COOLDOWN", 30)),
        )
    except ValueError as exc:
        raise ConfigError(f"an OIDC setting is malformed: {exc}") from exc


class Authenticator:
    """Every token a service accepts: Rapport's own, and the provider's when one is
    configured; ``revoked(client_id)`` says whether a partner client was revoked."""

    def __init__(
        self,
        secret: str,
        oidc: OidcVerifier | None = None,
        revoked: Callable[[str], bool] | None = None,
    ):
        self.secret, self.oidc, self.revoked = secret, oidc, revoked

    @classmethod
    def from_settings(cls, settings: Settings, revoked=None) -> Authenticator:
        return cls(settings.auth_secret, oidc_from_settings(settings), revoked)

    def verify(self, token: str) -> Principal:
        alg = _algorithm(token)
        if alg == "HS256":
            principal = verify_token(self.secret, token)
        elif alg in OIDC_ALGORITHMS and self.oidc is not None:
            principal = self.oidc.verify(token)
        else:
            raise TokenError(f"tokens signed with {alg!r} are not accepted")
        if principal.client_id and self.revoked is not None and self.revoked(principal.client_id):
            raise TokenError("the client this token was issued to has been revoked")
        return principal


@command("rapport-token")
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rapport-token", description="Issue an API token.")
    parser.add_argument("--role", required=True, choices=ROLES)
    parser.add_argument("--subject", required=True, help="who the token is for")
    parser.add_argument("--partner-id", help="the partner organisation (partner role only)")
    parser.add_argument("--hours", type=float, default=8.0, help="validity (default 8)")
    args = parser.parse_args(argv)
    if not 0 < args.hours <= 24 * 366:  # also refuses nan and inf
        raise Failed(f"--hours must be more than 0 and at most a year, not {args.hours}")
    try:
        secret = Settings.from_env("rapport").auth_secret
        print(
            issue_token(
                secret, args.subject, args.role, args.partner_id, timedelta(hours=args.hours)
            )
        )
    except (ConfigError, TokenError) as exc:
        print(f"rapport-token: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
