"""Every error answered as ``application/problem+json`` (RFC 9457).

Validation errors carry field-level detail under ``errors``: ``{"field": ["why"]}``.
"""

from __future__ import annotations

import logging
from typing import cast

from flask import Response, json, request
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from shared import context
from shared.errors import AppError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    slug: str | None = None,
    errors: dict | None = None,
    headers: dict | None = None,
    **extra,
) -> Response:
    body = {
        "type": f"urn:rapport:problem:{slug}" if slug else "about:blank",
        "title": title,
        "status": status,
        "instance": request.path,
        "request_id": context.request_id.get(),
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _field_errors(messages: dict) -> dict:
    """webargs nests messages by location; callers care about the fields."""
    flat: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def handle_app_error(exc: AppError) -> Response:
    headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
    return problem(exc.status, exc.title, exc.detail, exc.slug, exc.errors, headers, **exc.extra)


def handle_http_exception(exc: HTTPException) -> Response:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    headers = dict(data.get("headers") or {})
    if exc.code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="rapport"')
    if messages:
        errors = _field_errors(messages)
        if exc.code == 400 or errors.get("json") == ["Invalid JSON body."]:
            return problem(
                400,
                "Malformed request body",
                "The body is not valid JSON.",
                "malformed-json",
                headers=headers,
            )
        return problem(
            cast(int, exc.code),
            "The request is not valid",
            "One or more fields are missing or invalid.",
            "validation-error",
            errors,
            headers,
        )
    return problem(exc.code or 500, exc.name, exc.description, headers=headers)


def handle_unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return handle_http_exception(exc)
    if isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        # The database is down, restarting, or dropped this request's connection:
        # nothing was committed, and the same request can be sent again.
        log.warning("database unavailable: %r", exc)
        return problem(
            503,
            "Service Unavailable",
            "the database is unavailable; nothing was changed; try again shortly",
            "database-unavailable",
            headers={"Retry-After": "1"},
        )
    log.error("unhandled error", exc_info=exc)
    return handle_http_exception(InternalServerError())


def register(app) -> None:
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
