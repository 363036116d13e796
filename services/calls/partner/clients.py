"""Partners' OAuth2 clients and the client-credentials grant (RFC 6749 §4.4).

An admin makes a client for a partner and is shown its secret once; only a salted
scrypt hash of it is kept. The client exchanges its id and secret at
``POST /oauth/token`` for a short-lived partner token (``CALLS_PARTNER_TOKEN_SECONDS``,
15 minutes by default) carrying the partner id and the client's id.

Revoking a client refuses it new tokens at once, and its tokens already issued:
the calls service checks the client's record on every request made with a client's
token, and the revocation is written to the shared Redis state (when configured) for
as long as such a token can live, where every service's token check finds it. Tokens
are kept short-lived so that a service without the shared state holds a revoked
client's token for minutes at most, not hours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, tuple_, update

from services.calls.partner.tables import PartnerClient
from services.calls.people.tables import Partner
from shared.auth import Principal, issue_token
from shared.clock import utcnow
from shared.errors import NotFound
from shared.web.pagination import decode_time_cursor, page

DEFAULT_TOKEN_SECONDS = 900
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class GrantError(Exception):
    """An RFC 6749 §5.2 error: ``error`` code, description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt${n}${r}${p}$".format(**_SCRYPT) + "$".join(
        base64.b64encode(part).decode() for part in (salt, digest)
    )


def secret_matches(secret: str, stored: str) -> bool:
    try:
        _scheme, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            secret.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def token_seconds(settings) -> int:
    return int(settings.get("PARTNER_TOKEN_SECONDS", DEFAULT_TOKEN_SECONDS))


def create_client(uow, partner_id: str, name: str, created_by: str) -> tuple[PartnerClient, str]:
    """A new client of the partner and its secret (the only time it is known)."""
    secret = secrets.token_urlsafe(32)
    with uow() as work:
        if work.session.get(Partner, partner_id) is None:
            raise NotFound(f"no partner {partner_id}")
        client = PartnerClient(
            id="pc_" + secrets.token_hex(12),
            partner_id=partner_id,
            name=name,
            secret_hash=hash_secret(secret),
            created_at=utcnow(),
            created_by=created_by,
        )
        work.session.add(client)
        work.session.flush()
        work.session.expunge(client)
    return client, secret


def list_clients(uow, partner_id: str, limit: int, cursor: str | None) -> dict:
    query = (
        select(PartnerClient)
        .where(PartnerClient.partner_id == partner_id)
        .order_by(PartnerClient.created_at, PartnerClient.id)
        .limit(limit + 1)
    )
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(PartnerClient.created_at, PartnerClient.id) > after)
    with uow.reader() as session:
        if session.get(Partner, partner_id) is None:
            raise NotFound(f"no partner {partner_id}")
        rows = list(session.scalars(query))
    return page(rows, limit, lambda c: (c.created_at.isoformat(), c.id))


def revoke_client(
    uow, shared, partner_id: str, client_id: str, revoked_by: str, lifetime_seconds: int
) -> PartnerClient:
    """Revoke the client (once: a repeat keeps the first time and who) and publish
    the revocation to the shared state for the lifetime of its last token."""
    with uow() as work:
        client = work.session.get(PartnerClient, client_id, with_for_update=True)
        if client is None or client.partner_id != partner_id:
            raise NotFound(f"no client {client_id} of partner {partner_id}")
        if client.revoked_at is None:
            client.revoked_at, client.revoked_by = utcnow(), revoked_by
        work.session.flush()
        work.session.expunge(client)
    if shared is not None:
        shared.revoke_client(client_id, lifetime_seconds)
    return client


def client_revoked(uow, client_id: str) -> bool:
    """True for a revoked client, and for one that no longer exists."""
    with uow.reader() as session:
        revoked_at = session.execute(
            select(PartnerClient.revoked_at).where(PartnerClient.id == client_id)
        ).first()
    return revoked_at is None or revoked_at[0] is not None


def grant(
    uow, secret: str, form: dict, basic: tuple[str, str] | None, lifetime_seconds: int
) -> dict:
    """The client-credentials grant: the client authenticated by HTTP Basic or by
    ``client_id`` and ``client_secret`` in the form (one way only); an access token,
    or a GrantError."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise GrantError("invalid_request", "grant_type is required")
    in_form = form.get("client_id") is not None or form.get("client_secret") is not None
    if basic is not None and in_form:
        raise GrantError(
            "invalid_request",
            "authenticate the client one way only: "
            "HTTP Basic or client_id and client_secret in the body",
        )
    client_id, client_secret = basic or (form.get("client_id"), form.get("client_secret"))
    if not client_id or not client_secret:
        raise GrantError("invalid_client", "client authentication is required", 401)
    with uow() as work:
        client = work.session.get(PartnerClient, client_id)
        if (
            client is None
            or client.revoked_at is not None
            or not secret_matches(client_secret, client.secret_hash)
        ):
            raise GrantError("invalid_client", "unknown client, wrong secret, or revoked", 401)
        if grant_type != "client_credentials":
            raise GrantError(
                "unsupported_grant_type", "only the client_credentials grant is offered"
            )
        if not work.session.scalar(select(Partner.active).where(Partner.id == client.partner_id)):
            raise GrantError("unauthorized_client", "the client's partner is suspended")
        work.session.execute(
            update(PartnerClient)
            .where(PartnerClient.id == client_id)
            .values(last_token_at=utcnow())
        )
        partner_id = client.partner_id
    token = issue_token(
        secret,
        client_id,
        "partner",
        partner_id,
        timedelta(seconds=lifetime_seconds),
        client_id=client_id,
    )
    return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime_seconds}


def check_caller(uow, caller: Principal) -> str | None:
    """Why a client's token may no longer be used here, or None."""
    if caller.client_id and client_revoked(uow, caller.client_id):
        return "the client this token was issued to has been revoked"
    return None
