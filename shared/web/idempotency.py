"""``Idempotency-Key`` on every POST that creates something (spec, section 4).

The first request with a key claims it inside the same transaction as the change
it makes, so a change and its claim commit or vanish together; its answer is then
stored. A retry with the same key and the same request gets the stored answer
again (``Idempotent-Replayed: true``), never a second change; the same key with a
different request is refused (422); a retry while the first is still running, or
after it committed but before its answer was stored, gets 409 with Retry-After.
A request that fails stores nothing, so the key can be used again. Keys belong to
the caller (the token's subject), never shared between callers.
"""
from __future__ import annotations

import functools
import hashlib
import re
from datetime import datetime

from flask import Response, make_response, request
from sqlalchemy import Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from shared import context
from shared.errors import Conflict, Invalid
from shared.messaging.tables import utcnow
from shared.types import UTCDateTime

HEADER = "Idempotency-Key"
_VALID = re.compile(r"^[\x21-\x7e]{1,200}$")


class IdempotencyMixin:
    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(String(250), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def claim_row(claim: tuple) -> dict:
    owner, key, digest = claim
    return {"owner": owner, "key": key, "request_hash": digest, "created_at": utcnow()}


def idempotent(view):
    """Decorate a POST view (below ``roles``, above the arguments decorator)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        from shared.web.app import principal, service

        if not _VALID.match(key):
            raise Invalid("the Idempotency-Key header must be 1 to 200 visible ASCII characters",
                          errors={HEADER: ["1 to 200 visible ASCII characters"]})
        who = principal()
        owner = f"{who.role}:{who.partner_id or ''}:{who.subject}"
        digest = hashlib.sha256(b"\n".join((request.method.encode(), request.full_path.encode(),
                                            request.get_data()))).hexdigest()
        ctx = service()
        model = ctx.idempotency_model
        stored = _stored(ctx, model, owner, key)
        if stored is not None:
            return _replay(stored, digest)
        token = context.idempotency_claim.set((owner, key, digest))
        try:
            response = make_response(view(*args, **kwargs))
        except IntegrityError:
            stored = _stored(ctx, model, owner, key)
            if stored is None:
                raise
            return _replay(stored, digest)  # a concurrent request with this key won
        finally:
            context.idempotency_claim.reset(token)
        if 200 <= response.status_code < 300:
            _store(ctx, model, owner, key, response)
        return response
    return wrapper


def _stored(ctx, model, owner: str, key: str):
    with ctx.db.reader() as session:
        return session.scalar(select(model).where(model.owner == owner, model.key == key))


def _store(ctx, model, owner: str, key: str, response: Response) -> None:
    with ctx.db.transaction() as session:
        session.execute(update(model).where(model.owner == owner, model.key == key).values(
            status=response.status_code, body=response.get_data(as_text=True),
            location=response.headers.get("Location")))


def _replay(stored, digest: str) -> Response:
    if stored.request_hash != digest:
        raise Invalid("this Idempotency-Key was used for a different request",
                      errors={HEADER: ["already used with a different request"]})
    if stored.status is None:
        raise Conflict("a request with this Idempotency-Key is still being processed; "
                       "retry shortly", retry_after=1)
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers["Idempotent-Replayed"] = "true"
    return response
