"""Build a service's Flask app: config, OpenAPI, problem+json errors, request ids,
bearer auth, health, readiness and metrics, identical in every service."""

from __future__ import annotations

import functools
import inspect
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import MethodType
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request, request_tearing_down

from shared import context
from shared.auth import Authenticator, Principal, ProviderUnavailable, TokenError
from shared.config import Settings
from shared.db import Database
from shared.errors import Forbidden, TooManyRequests, Unauthorized, Unavailable
from shared.messaging.unit_of_work import UnitOfWorkFactory
from shared.metrics import OutboxCollector, exposition, metrics_for
from shared.redis_state import RateLimits, SharedState, shared_state
from shared.startup import freeze_startup_objects
from shared.web import openapi, plain_text, problems, swagger_ui
from shared.web.json import JSONProvider

PUBLIC_PREFIXES = ("/healthz", "/readyz", "/metrics", "/api/docs", "/pages-static")
# What the request hooks keep for each other in the WSGI environ.
STARTED, TOKENS = "rapport.started", "rapport.context_tokens"


@dataclass
class ServiceContext:
    settings: Settings
    db: Database
    uow: UnitOfWorkFactory
    idempotency_model: type | None = None
    authenticator: Authenticator | None = None
    shared: SharedState | None = None  # Redis, when RAPPORT_REDIS_URL is set


def service() -> ServiceContext:
    """The running service's settings, database and unit-of-work factory."""
    return current_app.extensions["rapport"]


def principal() -> Principal:
    return g.principal


def require_roles(*roles: str) -> None:
    """Refuse the request unless the caller holds one of ``roles`` (admin always may)."""
    role = g.principal.role
    if role not in roles and role != "admin":
        raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")


def roles(*names: str):
    """Decorate a view so that callers without one of ``names`` get 403 before
    anything of their request is read (place it above the arguments decorator)."""

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            require_roles(*names)
            return view(*args, **kwargs)

        return guarded

    return decorate


class ServiceApp(Flask):
    """Flask, with whether a function is a coroutine function found once per function.

    Flask asks ``ensure_sync`` about every hook, view and view method of every
    request, and the answer (``inspect.iscoroutinefunction``) is a chain of calls
    that is the same each time for the same function. A bound method is known by
    its function, as its instance may be new each request; other callables are
    asked each time, and the known functions are few (the app's own) but bounded."""

    KNOWN_FUNCTIONS = 4096

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._plain_functions: dict[Callable, bool] = {}

    def ensure_sync(self, func: Callable) -> Callable:
        key = func.__func__ if type(func) is MethodType else func
        plain = self._plain_functions.get(key)
        if plain is None:
            plain = not inspect.iscoroutinefunction(func)
            if inspect.isfunction(key) and len(self._plain_functions) < self.KNOWN_FUNCTIONS:
                self._plain_functions[key] = plain
        return func if plain else super().ensure_sync(func)

    # Flask looks up the request's blueprints (a proxy and two properties) to find
    # their hooks; the services' hooks are all the app's own. When only the app has
    # any (and no one listens for the end of a request), its hooks run as Flask runs
    # them, without that look-up; otherwise Flask's own code runs.

    def preprocess_request(self):
        funcs = self.before_request_funcs
        if self.url_value_preprocessors or len(funcs) > 1 or (funcs and None not in funcs):
            return super().preprocess_request()
        for before_func in funcs.get(None, ()):
            rv = self.ensure_sync(before_func)()
            if rv is not None:
                return rv
        return None

    def do_teardown_request(self, *args) -> None:
        funcs = self.teardown_request_funcs
        if (
            len(args) != 1
            or request_tearing_down.receivers
            or len(funcs) > 1
            or (funcs and None not in funcs)
        ):
            return super().do_teardown_request(*args)
        for func in reversed(funcs.get(None, ())):
            self.ensure_sync(func)(args[0])
        return None


def create_service_app(
    settings: Settings,
    *,
    title: str,
    description: str,
    blueprints: Iterable,
    outbox_model,
    idempotency_model=None,
    setup: Callable[[Flask], None] | None = None,
) -> Flask:
    app = ServiceApp(settings.service)
    app.json = JSONProvider(app)
    app.config.update(
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/docs",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/",
        OPENAPI_SWAGGER_UI_URL=swagger_ui.URL,
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
        MAX_CONTENT_LENGTH=int(settings.get("MAX_BODY_BYTES", 8 * 1024 * 1024)),
        RAPPORT_SETTINGS=settings,
    )
    db = Database(settings.database_url)
    shared = shared_state(settings)
    app.extensions["rapport"] = ServiceContext(
        settings=settings,
        db=db,
        uow=UnitOfWorkFactory(db, outbox_model, settings.service, idempotency_model),
        idempotency_model=idempotency_model,
        authenticator=Authenticator.from_settings(
            settings, shared.client_revoked if shared is not None else None
        ),
        shared=shared,
    )
    api = openapi.ProblemApi(app)
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix=f"/api/v1{blueprint.url_prefix or ''}")
    problems.register(app)
    swagger_ui.install(app)
    _install_hooks(app, settings, outbox_model, db)
    if shared is not None:
        _install_rate_limits(app, settings, shared)
    plain_text.install(app)
    if setup is not None:
        setup(app)
    freeze_startup_objects()
    return app


def _install_hooks(app: Flask, settings: Settings, outbox_model, db: Database) -> None:
    metrics = metrics_for(settings.service)
    outbox_collector = OutboxCollector(settings.service, db, outbox_model)

    running: ServiceContext = app.extensions["rapport"]
    # Whether a route answers without a token, found once per endpoint: the app's
    # routes are all registered before it serves its first request.
    public_endpoints: dict[str, bool] = {}

    # What the hooks pass on is kept in the WSGI environ, which each reads once: every
    # look-up through Flask's ``request`` or ``g`` is a context-variable lookup and a
    # proxy of its own.
    @app.before_request
    def _start():
        started = time.perf_counter()
        # The headers read as ``request.headers`` reads them, from the WSGI environ.
        environ = request.environ
        environ[STARTED] = started
        rid = environ.get("HTTP_X_REQUEST_ID") or str(uuid.uuid4())
        cid = environ.get("HTTP_X_CORRELATION_ID") or rid
        environ[TOKENS] = (context.request_id.set(rid), context.correlation_id.set(cid))
        # For the server's access log line, written once this context is gone.
        environ["rapport.request_id"], environ["rapport.correlation_id"] = rid, cid
        if request.path.startswith(PUBLIC_PREFIXES):
            return
        endpoint = request.endpoint
        public: bool | None = False  # no route matched: a 404 or 405, after the token
        if endpoint:
            public = public_endpoints.get(endpoint)
            if public is None:
                public = public_endpoints[endpoint] = _public(app, endpoint)
        if not public:
            g.principal = authenticate(environ.get("HTTP_AUTHORIZATION", ""), running.authenticator)

    # Labelled children, looked up once per label set: the request counter's and
    # the latency histogram's of each (method, route, status).
    observed: dict[tuple, tuple[Any, Any]] = {}

    @app.after_request
    def _finish(response: Response):
        response.headers["X-Request-ID"] = context.request_id.get() or ""
        environ, rule = request.environ, request.url_rule
        # ``request.method`` as Werkzeug reads it.
        method = environ.get("REQUEST_METHOD", "GET").upper()
        key = (method, rule.rule if rule else "unmatched", response.status_code)
        children = observed.get(key)
        if children is None:
            children = observed[key] = (
                metrics.http_requests.labels(*key),
                metrics.http_latency.labels(*key[:2]),
            )
        children[0].inc()
        started = environ.get(STARTED)
        if started is not None:
            children[1].observe(time.perf_counter() - started)
        return response

    @app.teardown_request
    def _reset(_exc):
        tokens = request.environ.pop(TOKENS, None)
        if tokens:
            context.request_id.reset(tokens[0])
            context.correlation_id.reset(tokens[1])

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok", service=settings.service)

    @app.get("/readyz")
    def readyz():
        try:
            db.ping()
        except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
            return jsonify(status="unavailable", database=repr(exc)), 503
        return jsonify(status="ready", database="ok")

    @app.get("/metrics")
    def metrics_endpoint():
        body, content_type = exposition([outbox_collector])
        return Response(body, content_type=content_type)


def public(view_class):
    """Mark a route's view class as answering without a bearer token (it checks a
    secret of its own, such as a calendar feed's)."""
    view_class.public = True
    return view_class


def _public(app: Flask, endpoint: str) -> bool:
    view = app.view_functions.get(endpoint)
    return bool(getattr(getattr(view, "view_class", None), "public", False))


def authenticate(header: str, authenticator: Authenticator | None = None) -> Principal:
    """The principal of an ``Authorization: Bearer`` header; 401 for no or a bad
    token, 503 when the identity provider's keys cannot be fetched. The running
    service's authenticator unless one is given."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send a bearer token: Authorization: Bearer <token>")
    return verify(token.strip(), authenticator)


def verify(token: str, authenticator: Authenticator | None = None) -> Principal:
    try:
        if authenticator is None:
            authenticator = service().authenticator
        assert authenticator is not None  # create_app gives every service one
        return authenticator.verify(token)
    except TokenError as exc:
        raise Unauthorized(f"the token is not valid: {exc}") from exc
    except ProviderUnavailable as exc:
        raise Unavailable(f"tokens cannot be checked just now: {exc}", retry_after=30) from exc


def _install_rate_limits(app: Flask, settings: Settings, shared: SharedState) -> None:
    """Count each authenticated request against its partner's limit (every token
    of the partner together) and its token's, in Redis, so that every worker and
    replica counts the same; over either, 429 with Retry-After, before the view
    reads anything."""
    limits = RateLimits.from_settings(settings)
    if limits.partner is None and limits.token is None:
        return
    counted = metrics_for(settings.service).rate_limited
    refused = {scope: counted.labels(scope) for scope in ("partner", "token")}

    @app.before_request
    def _limit():
        caller = g.get("principal")
        if caller is None:
            return
        checks = []
        if limits.partner is not None and caller.partner_id:
            checks.append(("partner", f"partner:{caller.partner_id}", limits.partner))
        if limits.token is not None and caller.token_id:
            checks.append(("token", f"token:{caller.token_id}", limits.token))
        for scope, key, limit in checks:
            wait = shared.hit(key, limit)
            if wait is not None:
                refused[scope].inc()
                raise TooManyRequests(
                    f"over the {scope} rate limit of {limit.count} requests per "
                    f"{limit.seconds} s; try again in {wait} s",
                    retry_after=wait,
                )
