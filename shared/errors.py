"""Errors the domain raises, each knowing the HTTP status and problem type it maps to."""

from __future__ import annotations


class AppError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, errors: dict | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra


class Invalid(AppError):
    status, slug, title = 422, "validation-error", "The request is not valid"


class NotFound(AppError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, slug, title = 409, "conflict", "Conflict with the current state"


class PreconditionFailed(AppError):
    status, slug, title = 412, "precondition-failed", "The resource has changed"


class Unauthorized(AppError):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(AppError):
    status, slug, title = 403, "forbidden", "Not allowed"


class TooManyRequests(AppError):
    status, slug, title = 429, "rate-limited", "Too many requests"


class Unavailable(AppError):
    status, slug, title = 503, "unavailable", "Service unavailable"
