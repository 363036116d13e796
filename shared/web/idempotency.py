"""``Idempotency-Key`` on every POST that creates something (spec, section 4).

The first request with a key claims it inside the same transaction as the change
it makes, so a change and its claim commit or vanish together; its answer is then
stored. A retry with the same key and the same request gets the stored answer
again (``Idempotent-Replayed: true``), never a second change; the same key with a
different request is refused (422); a retry while the first is still running, or
after it committed but before its answer was stored, gets 409 with Retry-After.
A request that fails stores nothing, so the key can be used again. Keys belong to
the caller (the token's subject), never shared between callers.

A view that streams its body (an import's upload of up to a gigabyte) is
``idempotent(streamed=True)``: its body is not read into memory to be hashed. The
view hashes what it reads and hands that to ``received`` before it changes
anything; the request is known by that hash. Where the key has an answer already,
``received`` raises, the view undoes what it kept (the file it wrote) and the
answer is given again, or refused, as for any other view.

A stored answer is given again for ``keep_days`` (a week by default); the
``expire-idempotency-keys`` periodic job of each service then deletes it.

A stored answer records the customers it concerns (``concerns``, called by the use
case); an erasure ``forget``s every answer about its subject, and a replay of one then
gets 410 Gone, never the person's data and never a second run of the request. A view
may audit a replay (``on_replay``), as the partner API audits every read it answers.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Response, make_response, request
from flask_smorest import Blueprint
from sqlalchemy import Integer, String, Text, and_, delete, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from shared import context
from shared.clock import utcnow
from shared.errors import Conflict, Invalid
from shared.messaging.claims import subjects as _subjects
from shared.periodic import Job
from shared.types import UTCDateTime
from shared.web.openapi import KEY_HEADER as HEADER
from shared.web.openapi import KEY_PATTERN, KEYED
from shared.web.openapi import REPLAYED_HEADER as REPLAYED

PROBLEM_JSON = "application/problem+json"
_VALID = re.compile(KEY_PATTERN)


class IdempotencyMixin:
    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(String(250), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # " id1 id2 ": the customers the answer concerns, each between spaces so that an
    # erasure finds its subject's answers with one LIKE (" ": none; NULL: not recorded).
    subjects: Mapped[str | None] = mapped_column(Text)


KEEP_DAYS = 7


def keep_days(settings) -> int:
    """``IDEMPOTENCY_KEEP_DAYS`` (``<SERVICE>_…`` or ``RAPPORT_…``): how long a stored
    answer is given again. A client retries within minutes or hours of its request;
    past that a key is free again, and the answer, which may carry a customer's
    data, is not kept for nothing (PDPO)."""
    raw = settings.get("IDEMPOTENCY_KEEP_DAYS", KEEP_DAYS)
    days = int(raw)
    if days < 1:
        raise ValueError(f"IDEMPOTENCY_KEEP_DAYS must be at least 1, not {raw!r}")
    return days


def expire(db, model, before: datetime, batch: int = 5000) -> int:
    """Delete the keys claimed before ``before``, answered or abandoned, a batch a
    transaction (so writers wait on none for long); how many were deleted."""
    deleted = 0
    while True:
        with db.transaction() as session:
            keys = session.execute(
                select(model.owner, model.key).where(model.created_at < before).limit(batch)
            ).all()
            if keys:
                session.execute(
                    delete(model).where(
                        tuple_(model.owner, model.key).in_([tuple(k) for k in keys])
                    )
                )
        deleted += len(keys)
        if len(keys) < batch:
            return deleted


def expiry_job(settings, db, model) -> Job:
    """The periodic job (``shared.periodic``) that forgets keys ``keep_days`` old."""
    keep = timedelta(days=keep_days(settings))
    return Job(
        "expire-idempotency-keys",
        lambda now: expire(db, model, now - keep),
        timedelta(hours=1),
        lease=timedelta(minutes=30),
    )


def concerns(*customer_ids: str) -> None:
    """Record that the current request's answer carries these customers' data. Call it
    before the unit of work commits, so the claim holds them from the start."""
    subjects = context.idempotency_subjects.get()
    if subjects is not None:
        subjects.extend(c for c in customer_ids if c and c not in subjects)


def forget(session, model, customer_ids) -> int:
    """Erasure: every stored answer about these customers becomes a 410 Gone, in the
    erasure's own transaction; a request still running keeps its live answer but
    stores nothing after (``_store`` only fills an empty claim)."""
    forgotten = 0
    for customer_id in customer_ids:
        # Answers stored before subjects were recorded are found by their content.
        about = or_(
            model.subjects.contains(f" {customer_id} ", autoescape=True),
            and_(
                model.subjects.is_(None),
                model.status < 400,
                model.body.contains(customer_id, autoescape=True),
            ),
        )
        forgotten += session.execute(
            update(model).where(about).values(status=410, body=GONE, location=None, subjects=None)
        ).rowcount
    return forgotten


GONE = json.dumps(
    {
        "type": "urn:rapport:problem:subject-erased",
        "title": "Gone",
        "status": 410,
        "detail": "the answer to this request is no longer available: the customer it "
        "concerned was erased",
    }
)


def idempotent(view=None, *, on_replay=None, streamed: bool = False):
    """Decorate a POST view (below ``roles``, above the arguments decorator).
    ``on_replay(answer)`` runs when a stored successful answer is given again.
    ``streamed``: the view reads its body as a stream and calls ``received``."""
    if view is None:
        return functools.partial(idempotent, on_replay=on_replay, streamed=streamed)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        from shared.web.app import principal, service

        if not _VALID.match(key):
            raise Invalid(
                "the Idempotency-Key header must be 1 to 200 visible ASCII characters",
                errors={HEADER: ["1 to 200 visible ASCII characters"]},
            )
        who = principal()
        claim = _Claim(f"{who.role}:{who.partner_id or ''}:{who.subject}", key)
        ctx = service()
        model = ctx.idempotency_model
        if not streamed:
            claim.digest = _digest(request.get_data())
            stored = _stored(ctx, model, claim.owner, key)
            if stored is not None:
                return _replay(stored, claim.digest, on_replay)
        # A streamed view's claim is made by ``received``, once its body is known.
        token = context.idempotency_claim.set(None if streamed else claim.row())
        pending = _streamed.set(claim if streamed else None)
        subjects = context.idempotency_subjects.set([])
        try:
            response = make_response(view(*args, **kwargs))
            if 200 <= response.status_code < 300:
                if claim.digest is None:
                    raise RuntimeError(
                        f"{view.__qualname__} is streamed but never called received()"
                    )
                _store(ctx, model, claim.owner, key, response)
        except _Answered as answered:
            return _replay(answered.stored, answered.digest, on_replay)
        except IntegrityError:
            stored = _stored(ctx, model, claim.owner, key)
            if stored is None or claim.digest is None:
                raise
            # a concurrent request with this key won
            return _replay(stored, claim.digest, on_replay)
        finally:
            context.idempotency_claim.reset(token)
            context.idempotency_subjects.reset(subjects)
            _streamed.reset(pending)
        return response

    # The operation documents the header and its answers (``shared.web.openapi``):
    # marked through flask-smorest's documentation decorator.
    return Blueprint.doc(**{KEYED: True})(wrapper)


def received(body_digest: str) -> None:
    """The body of an ``idempotent(streamed=True)`` view, hashed as the view read it
    (with whatever else tells two uploads apart, its format say): the request is
    now known, and the change the view makes next claims its key. Raises if the key
    has an answer already, which the view's wrapper then gives (or refuses, for
    another request), so call it before changing anything and undo, on any
    exception, what was kept. Outside such a view, or without a key, it does
    nothing."""
    claim = _streamed.get()
    if claim is None:
        return
    from shared.web.app import service

    claim.digest = _digest(body_digest.encode())
    ctx = service()
    stored = _stored(ctx, ctx.idempotency_model, claim.owner, claim.key)
    if stored is not None:
        raise _Answered(stored, claim.digest)
    context.idempotency_claim.set(claim.row())


@dataclass
class _Claim:
    owner: str
    key: str
    digest: str | None = None  # of the request, once known

    def row(self) -> tuple[str, str, str]:
        assert self.digest is not None
        return self.owner, self.key, self.digest


# The claim of the streamed view running, whose digest ``received`` fills in.
_streamed: ContextVar[_Claim | None] = ContextVar("idempotency_streamed", default=None)


class _Answered(Exception):
    """A streamed view's key already has an answer (``received``)."""

    def __init__(self, stored, digest: str):
        super().__init__("the Idempotency-Key has an answer already")
        self.stored, self.digest = stored, digest


def _digest(body: bytes) -> str:
    return hashlib.sha256(
        b"\n".join((request.method.encode(), request.full_path.encode(), body))
    ).hexdigest()


def _stored(ctx, model, owner: str, key: str):
    with ctx.db.reader() as session:
        return session.scalar(select(model).where(model.owner == owner, model.key == key))


def _store(ctx, model, owner: str, key: str, response: Response) -> None:
    with ctx.db.transaction() as session:
        session.execute(
            update(model)
            .where(model.owner == owner, model.key == key, model.status.is_(None))
            .values(
                status=response.status_code,
                body=response.get_data(as_text=True),
                location=response.headers.get("Location"),
                subjects=_subjects(),
            )
        )


def _replay(stored, digest: str, on_replay) -> Response:
    if stored.request_hash != digest:
        raise Invalid(
            "this Idempotency-Key was used for a different request",
            errors={HEADER: ["already used with a different request"]},
        )
    if stored.status is None:
        raise Conflict(
            "a request with this Idempotency-Key is still being processed; retry shortly",
            retry_after=1,
        )
    if stored.status >= 400:  # forgotten by an erasure
        return Response(
            stored.body,
            status=stored.status,
            mimetype=PROBLEM_JSON,
            headers={REPLAYED: "true"},
        )
    if on_replay is not None:
        on_replay(json.loads(stored.body))
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers[REPLAYED] = "true"
    return response
