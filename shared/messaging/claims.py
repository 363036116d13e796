"""The ``Idempotency-Key`` claim a unit of work writes in its own transaction.

The HTTP layer (``shared.web.idempotency``) decides what a request claims and puts
it in the context; the unit of work writes it beside the change it makes, so the
change and its claim commit or vanish together. This module is all the outbox layer
knows of it, so that it never imports the HTTP layer.
"""

from __future__ import annotations

from shared import clock, context


def claim_row(claim: tuple) -> dict:
    """The idempotency row of ``claim`` (owner, key, request digest)."""
    owner, key, digest = claim
    return {
        "owner": owner,
        "key": key,
        "request_hash": digest,
        "created_at": clock.now(),
        "subjects": subjects(),
    }


def subjects() -> str:
    """The customers the request's answer concerns, each between spaces."""
    # " " for an answer about no one: NULL is left to answers stored before subjects were.
    found = context.idempotency_subjects.get()
    return f" {' '.join(found)} " if found else " "
