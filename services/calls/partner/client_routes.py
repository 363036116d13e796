"""Partners' OAuth2 clients (admins make and revoke them) and the token endpoint
where a client exchanges its credentials for a short-lived partner token."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from flask import jsonify, request
from flask.views import MethodView

from services.calls.partner import clients as partner_clients
from services.calls.partner.client_schemas import (
    OAuthError,
    PartnerClientCreated,
    PartnerClientIn,
    PartnerClientOut,
    PartnerClientPage,
    TokenOut,
    TokenRequest,
)
from shared.errors import TooManyRequests
from shared.redis_state import Limit, shared_state
from shared.web.app import principal, public, roles, service
from shared.web.blueprint import Blueprint
from shared.web.openapi import RATE_LIMITED
from shared.web.pagination import PageArgs

clients_bp = Blueprint(
    "partner_clients",
    __name__,
    url_prefix="/partners",
    description="Partners' OAuth2 clients (client-credentials grant)",
)
oauth_bp = Blueprint(
    "oauth",
    __name__,
    url_prefix="/oauth",
    description="OAuth 2.0 token endpoint for partner clients",
)
FORM = "application/x-www-form-urlencoded"


@clients_bp.route("/<string:partner_id>/clients")
class PartnerClients(MethodView):
    @roles("manager")
    @clients_bp.arguments(PageArgs, location="query")
    @clients_bp.response(200, PartnerClientPage)
    def get(self, args, partner_id):
        """The partner's clients, oldest first, revoked ones too (never their secrets)."""
        return partner_clients.list_clients(
            service().uow, partner_id, args["limit"], args["cursor"]
        )

    @roles("admin")
    @clients_bp.arguments(PartnerClientIn)
    @clients_bp.response(201, PartnerClientCreated)
    def post(self, data, partner_id):
        """Make a client for the partner; its secret is in this answer and nowhere
        else (Rapport keeps only a hash), so hand it over now."""
        client, secret = partner_clients.create_client(
            service().uow, partner_id, data["name"], principal().subject
        )
        client.client_secret = secret  # on this answer's copy only, never stored
        return client, 201


@clients_bp.route("/<string:partner_id>/clients/<string:client_id>")
class PartnerClient(MethodView):
    @roles("admin")
    @clients_bp.response(200, PartnerClientOut)
    def delete(self, partner_id, client_id):
        """Revoke the client: no more tokens for it, and the ones it holds are refused
        from now on (a repeat changes nothing)."""
        ctx = service()
        lifetime = partner_clients.token_seconds(ctx.settings) + 300  # and clock skew
        return partner_clients.revoke_client(
            ctx.uow, ctx.shared, partner_id, client_id, principal().subject, lifetime
        )


@oauth_bp.route("/token")
@public
class Token(MethodView):
    @oauth_bp.doc(
        security=[], requestBody={"required": True, "content": {FORM: {"schema": TokenRequest}}}
    )
    @oauth_bp.response(
        200,
        TokenOut,
        description="A partner token (RFC 6749 §5.1)",
        headers={"Cache-Control": {"schema": {"type": "string"}}},
    )
    @oauth_bp.alt_response(
        400,
        schema=OAuthError,
        content_type="application/json",
        description="The request is not one this endpoint grants (RFC 6749 §5.2)",
    )
    @oauth_bp.alt_response(
        401,
        schema=OAuthError,
        content_type="application/json",
        description="invalid_client: unknown, wrong secret or revoked",
        headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
    )
    @oauth_bp.doc(responses={"429": {"$ref": f"#/components/responses/{RATE_LIMITED}"}})
    def post(self):
        """The client-credentials grant: authenticate the client by HTTP Basic (or
        client_id and client_secret in the form) and send grant_type=client_credentials;
        the answer's partner token lasts expires_in seconds. With shared state
        (Redis) configured, each client id may ask RAPPORT_RATE_LIMIT_TOKEN_ENDPOINT
        times (30/minute unless set) before a 429."""
        ctx = service()
        try:
            form, basic = _read_request()
            _limit_attempts(ctx.settings, (basic or (form.get("client_id"),))[0])
            answer = partner_clients.grant(
                ctx.uow,
                ctx.settings.auth_secret,
                form,
                basic,
                partner_clients.token_seconds(ctx.settings),
            )
        except partner_clients.GrantError as exc:
            response = jsonify(error=exc.error, error_description=exc.description)
            response.status_code = exc.status
            if exc.status == 401:
                response.headers["WWW-Authenticate"] = 'Basic realm="rapport"'
        else:
            response = jsonify(answer)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        return response


def _limit_attempts(settings, client_id: str | None) -> None:
    """Attempts per client id (or per address without one), counted across replicas:
    every attempt costs a deliberately slow secret hash, and a client needs a token
    only every few minutes."""
    state = shared_state(settings)
    limit = Limit.parse(
        settings.get("RATE_LIMIT_TOKEN_ENDPOINT", "30/minute"), "RAPPORT_RATE_LIMIT_TOKEN_ENDPOINT"
    )
    if state is None or limit is None:
        return
    key = f"token-endpoint:{client_id or 'address:' + str(request.remote_addr)}"
    wait = state.hit(key, limit)
    if wait is not None:
        raise TooManyRequests(
            f"over the token endpoint's limit of {limit.count} attempts "
            f"per {limit.seconds} s for this client; try again in {wait} s",
            retry_after=wait,
        )


def _read_request() -> tuple[dict, tuple[str, str] | None]:
    if request.mimetype != FORM:
        raise partner_clients.GrantError("invalid_request", f"send the parameters as {FORM}")
    form = request.form
    if any(len(form.getlist(name)) > 1 for name in form):
        raise partner_clients.GrantError("invalid_request", "a parameter is repeated")
    return form.to_dict(), _basic(request.headers.get("Authorization"))


def _basic(header: str | None) -> tuple[str, str] | None:
    """HTTP Basic client credentials, each part form-encoded (RFC 6749 §2.3.1)."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise partner_clients.GrantError(
            "invalid_client", "authenticate the client by HTTP Basic", 401
        )
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise partner_clients.GrantError(
            "invalid_client", "malformed Basic credentials", 401
        ) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise partner_clients.GrantError("invalid_client", "malformed Basic credentials", 401)
    return unquote_plus(client_id), unquote_plus(secret)
