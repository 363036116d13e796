"""Per-request and per-message context carried into logs and emitted events."""

from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)
event_id: ContextVar[str | None] = ContextVar("event_id", default=None)
# (owner, key, request hash) of an Idempotency-Key the current request claims.
idempotency_claim: ContextVar[tuple | None] = ContextVar("idempotency_claim", default=None)
# The customers the current request's answer concerns (stored with its Idempotency-Key,
# so an erasure finds every stored answer about its subject).
idempotency_subjects: ContextVar[list | None] = ContextVar("idempotency_subjects", default=None)
