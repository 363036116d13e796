"""Sending webhook deliveries: signed, with a timeout, retried with backoff.

The ``deliver-webhooks`` job takes the due pending deliveries in batches, posts each
(several at once, so one slow receiver holds up no other for longer than the
timeout), and records the answer: a 2xx is ``delivered``; anything else is tried
again after 10 s, 20 s, 40 s… (at most an hour apart) and after ``MAX_ATTEMPTS`` is
``failed``, visible at ``GET /webhooks/{id}/deliveries`` and re-sendable.

Every request carries ``Rapport-Signature: t=<unix seconds>,v1=<hex>``, the
HMAC-SHA256 under the subscription's secret of ``"<t>.<body>"``, and
``Rapport-Delivery`` (the delivery's id, the same on every attempt, for receivers
to drop a repeat of one they already took).

The URL's host is resolved and checked again at each attempt
(``webhooks.resolve``), and the request is sent to the address checked (TLS still
verifies the certificate for the URL's host name, which is also the ``Host``
header), so a host whose DNS moved to a private address since it was subscribed is
refused, not reached: the attempt fails and is retried like any other."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import urllib3
from prometheus_client import Counter
from requests import certs
from sqlalchemy import select

from services.calls.notifications import webhooks
from services.calls.notifications.tables import WebhookDelivery, WebhookSubscription
from shared import clock

# Every attempt a receiver did not take (an error or a non-2xx answer), retried or not.
FAILED = Counter(
    "rapport_webhook_deliveries_failed_total",
    "Webhook delivery attempts that did not get through",
    ["service", "kind"],
)
BATCH = 100
WORKERS = 8
TIMEOUT_SECONDS = 5.0
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=1)
# A pass keeps taking batches while there are due deliveries, for about this long.
PASS_BUDGET_SECONDS = 10.0
# The certificate authorities a receiver's TLS certificate must chain to (requests').
CA_BUNDLE = certs.where()
# What is kept of a receiver's answer to a failed attempt.
ANSWER_BYTES = 200
# How long the job's pass keeps watching for new deliveries, and how often it looks.
LINGER_SECONDS = 5.0
POLL_SECONDS = 0.1


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def backoff(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_WAIT)


def deliver_due(
    db,
    now: datetime,
    timeout: float = TIMEOUT_SECONDS,
    linger: float = 0.0,
    private_ok: bool = False,
) -> dict:
    """One pass of ``deliver-webhooks``: what it sent, will retry and gave up on.
    ``private_ok`` lets a URL reach private addresses (``webhooks.allow_private``).
    With ``linger``, a pass that sent something keeps watching for new due
    deliveries that long (every ``POLL_SECONDS``), so while notifications flow each
    waits a fraction of a second, not a tick of the scheduler and an interval of
    the job; an idle pass ends at once."""
    totals = {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0}
    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        while time.monotonic() - started < PASS_BUDGET_SECONDS:
            due = _due(db, max(now, clock.now()))
            if not due:
                # Idle, the pass ends at once; while deliveries flow it keeps watching.
                if not any(totals.values()) or time.monotonic() - started >= linger:
                    break
                time.sleep(POLL_SECONDS)
                continue
            results = list(pool.map(lambda d: _post(*d[1:], timeout, private_ok), due))
            for outcome in _record(db, [d[0] for d in due], results):
                totals[outcome] += 1
    return totals


def _due(db, now: datetime) -> list[tuple]:
    with db.reader() as session:
        rows = session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.payload,
                WebhookSubscription.url,
                WebhookSubscription.secret,
            )
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(BATCH)
        ).all()
    return [tuple(row) for row in rows]


def _post(
    payload: dict, url: str, secret: str, timeout: float, private_ok: bool
) -> tuple[int | None, str | None]:
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Rapport-Webhooks/1",
        "Rapport-Delivery": payload["id"],
        "Rapport-Event": payload["kind"],
        "Rapport-Signature": sign(secret, int(clock.now().timestamp()), body),
    }
    try:
        status, answer = _send(webhooks.resolve(url, private_ok), body, headers, timeout)
    except webhooks.Unusable as exc:
        return None, f"Refused: {exc}"
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return status, None if 200 <= status < 300 else answer.decode(errors="replace")


def _send(target: webhooks.Target, body: bytes, headers: dict, timeout: float):
    """POST to the first of the target's checked addresses that takes a connection,
    never following a redirect: ``(status, the answer's first bytes)``."""
    parts = target.parts
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {**headers, "Host": parts.netloc}
    limits = urllib3.Timeout(connect=timeout, read=timeout)
    failure: Exception | None = None
    for address in target.addresses:
        if parts.scheme == "https":
            pool: urllib3.HTTPConnectionPool = urllib3.HTTPSConnectionPool(
                address,
                target.port,
                timeout=limits,
                retries=False,
                cert_reqs="CERT_REQUIRED",
                ca_certs=CA_BUNDLE,
                server_hostname=parts.hostname,
                assert_hostname=parts.hostname,
            )
        else:
            pool = urllib3.HTTPConnectionPool(address, target.port, timeout=limits, retries=False)
        try:
            with pool:
                answer = pool.urlopen(
                    "POST", path, body=body, headers=headers, redirect=False, preload_content=False
                )
                try:
                    return answer.status, answer.read(ANSWER_BYTES)
                finally:
                    answer.release_conn()
        except urllib3.exceptions.NewConnectionError as exc:
            failure = exc  # this address takes no connection: the next one may
    assert failure is not None
    raise failure


def _record(db, delivery_ids: list[str], results: list[tuple]) -> list[str]:
    """Each answer on its delivery, the batch in one transaction."""
    now = clock.now()
    with db.transaction() as session:
        return [
            _answer(session.get(WebhookDelivery, delivery_id), code, error, now)
            for delivery_id, (code, error) in zip(delivery_ids, results)
        ]


def _answer(row: WebhookDelivery | None, code: int | None, error: str | None, now: datetime) -> str:
    if row is None or row.status != "pending":
        return "skipped"  # deleted, or answered meanwhile
    row.attempts += 1
    row.last_status_code, row.last_error = code, error
    if code is not None and 200 <= code < 300:
        row.status, row.delivered_at = "delivered", now
        return "delivered"
    FAILED.labels("calls", row.kind).inc()
    if row.attempts >= MAX_ATTEMPTS:
        row.status = "failed"
        return "failed"
    row.next_attempt_at = now + backoff(row.attempts)
    return "retrying"
