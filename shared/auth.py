"""Bearer tokens: signed (HS256), carrying a role and, for partners, a partner id.

``rapport-token --role manager --subject alice`` issues one. The secret comes
from ``RAPPORT_AUTH_SECRET``; the built-in one exists only with
``RAPPORT_DEV_MODE=1``.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import jwt

from shared.cli import Failed, command
from shared.config import ConfigError, Settings

ROLES = ("admin", "manager", "agent", "analyst", "partner")
ISSUER = "rapport"
AUDIENCE = "rapport-api"


class TokenError(ValueError):
    pass


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    partner_id: str | None = None


def issue_token(secret: str, subject: str, role: str, partner_id: str | None = None,
                ttl: timedelta = timedelta(hours=8)) -> str:
    if role not in ROLES:
        raise TokenError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if (role == "partner") != bool(partner_id):
        raise TokenError("a partner token needs a partner id, and only a partner token has one")
    now = datetime.now(timezone.utc)
    claims = {"sub": subject, "role": role, "iss": ISSUER, "aud": AUDIENCE,
              "iat": now, "exp": now + ttl}
    if partner_id:
        claims["partner_id"] = partner_id
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(secret: str, token: str) -> Principal:
    principal, expires = _verified(secret, token)
    if time.time() >= expires:
        raise TokenError("Signature has expired")
    return principal


@lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> tuple[Principal, float]:
    """Signature and claims checked once per token (a client sends the same one
    many times); the expiry is checked again on every use by the caller. A token
    that fails raises, and failures are not cached."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE,
                            issuer=ISSUER, options={"require": ["exp", "sub", "role"]})
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    role = claims.get("role")
    if role not in ROLES or (role == "partner") != bool(claims.get("partner_id")):
        raise TokenError("token carries no valid role")
    return (Principal(subject=claims["sub"], role=role, partner_id=claims.get("partner_id")),
            float(claims["exp"]))


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
        print(issue_token(secret, args.subject, args.role, args.partner_id,
                          timedelta(hours=args.hours)))
    except (ConfigError, TokenError) as exc:
        print(f"rapport-token: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
