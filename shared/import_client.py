"""An import file uploaded to a Rapport API and its job followed to the end, for the
command lines (``rapport-customers import``, ``rapport-sales import``).

An upload carries an ``Idempotency-Key`` of its own, one a run of the command. When
the connection breaks or the API is being replaced (a deploy: 502, 503 or 504, or
no answer), the file is sent again with the same key, up to ``ATTEMPTS`` sends
(an address where nothing listens at the first is said at once): an upload the API did take
answers with the job it started, never a second job. A retry that arrives while
the first is still being registered is told to wait (409 with ``Retry-After``) and
waits.

The job is then followed until it ends. A look at it that finds the API away (a
deploy again; the job goes on, taken up by another process) waits for it to come
back, up to ``PATIENCE`` seconds, and then says which job it could not follow.
Anything else the API answers, and an API never reached, is one line through
``shared.cli``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import requests
from urllib3.exceptions import NewConnectionError

from shared.cli import Failed, expect

TYPES = {".csv": "text/csv", ".jsonl": "application/x-ndjson", ".ndjson": "application/x-ndjson"}
ATTEMPTS = 5  # sends of one upload
BACKOFF = 0.5  # seconds before the second send, doubled for each after it
MAX_WAIT = 15.0
PATIENCE = 120.0  # seconds a followed job's API may be away
POLL_SECONDS = 0.5
AWAY = (502, 503, 504)  # a proxy without its API, or an API that cannot serve now
UPLOAD_TIMEOUT = 600
POLL_TIMEOUT = 30


def upload(url: str, token: str, path: Path, what: str) -> dict:
    """POST ``path`` to ``url`` (an import endpoint) and answer the job it started."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": TYPES.get(path.suffix.lower(), "text/csv"),
        "Idempotency-Key": f"upload-{uuid.uuid4()}",
    }
    for attempt in range(1, ATTEMPTS + 1):
        last = attempt == ATTEMPTS
        # Opened before anything is sent, for every send: a missing or unreadable
        # file is said as such (shared.cli), and a retry sends it from its start.
        with path.open("rb") as body:
            try:
                r = requests.post(url, data=body, headers=headers, timeout=UPLOAD_TIMEOUT)
            except (requests.ConnectionError, requests.Timeout) as exc:
                # Nothing listening at the first try is a wrong address or an API
                # that is down, not a blip: said at once.
                if last or (attempt == 1 and _refused(exc)):
                    raise
                _wait(attempt, None)
                continue
        if not last and (r.status_code in AWAY or r.status_code == 409):
            _wait(attempt, r)
            continue
        return expect(r, 202, what=what).json()
    raise AssertionError("unreachable: the last attempt returns or raises")


def follow(job_url: str, token: str, job: dict, what: str, seen: Callable[[dict], None]) -> dict:
    """Look at the job every ``POLL_SECONDS`` until it ends, handing each look to
    ``seen``; the job as it ended."""
    headers = {"Authorization": f"Bearer {token}"}
    away_since = None
    while job["status"] in ("queued", "running"):
        time.sleep(POLL_SECONDS)
        try:
            r = requests.get(job_url, headers=headers, timeout=POLL_TIMEOUT)
            reached = r.status_code not in AWAY
        except (requests.ConnectionError, requests.Timeout):
            reached = False
        if not reached:
            away_since = away_since or time.monotonic()
            if time.monotonic() - away_since > PATIENCE:
                raise Failed(
                    f"{what} has not answered for {PATIENCE:.0f} s; the import job "
                    f"{job['id']} goes on without this command: follow it at {job_url}"
                )
            continue
        away_since = None
        job = expect(r, 200, what=what).json()
        seen(job)
    return job


def _refused(exc: Exception) -> bool:
    """Whether no connection was made at all (nothing listening at the address)."""
    reason = exc.args[0] if exc.args else None
    return isinstance(getattr(reason, "reason", reason), NewConnectionError)


def _wait(attempt: int, response) -> None:
    """Before the next send: what the API asked (``Retry-After``), else a back-off."""
    asked = None
    if response is not None:
        try:
            asked = float(response.headers.get("Retry-After", ""))
        except ValueError:
            asked = None
    time.sleep(min(MAX_WAIT, asked if asked is not None else BACKOFF * 2 ** (attempt - 1)))
