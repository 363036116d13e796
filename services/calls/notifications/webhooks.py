"""Webhook subscriptions: who is told of what, at which URL, signed with which secret.

An internal subscription (a manager's or admin's) hears every notification of its
kinds; a partner's hears only the kinds about its own work, and only for calls its
agents hold. A URL must be http(s), carry no credentials and resolve; one that
resolves to a private, loopback or link-local address is refused unless
``CALLS_WEBHOOK_ALLOW_PRIVATE=1`` (a server-side request forgery guard). The same
check is made again at every delivery (``resolve``), whose request then goes to the
very address checked: a host whose DNS later points inside is not sent to."""

from __future__ import annotations

import ipaddress
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import delete as sa_delete
from sqlalchemy import select, tuple_

from services.calls.notifications.tables import WebhookDelivery, WebhookSubscription
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import Forbidden, Invalid, NotFound
from shared.web.pagination import decode_time_cursor, page

KINDS = ("call.assigned", "call.withdrawn", "callback.due", "escalation.raised", "followup.created")
# What a partner may hear: its own calls coming and going, and its callbacks.
PARTNER_KINDS = ("call.assigned", "call.withdrawn", "callback.due")


def allow_private(settings) -> bool:
    return str(settings.get("WEBHOOK_ALLOW_PRIVATE", "0")).lower() in ("1", "true", "yes")


class Unusable(ValueError):
    """A URL Rapport must not send to; the message says why, for the caller."""


@dataclass(frozen=True)
class Target:
    """Where a URL's request goes: its parts, its port, and the addresses its host
    resolved to (in the resolver's order), every one of them checked."""

    parts: SplitResult
    port: int
    addresses: tuple[str, ...]


def resolve(url: str, private_ok: bool) -> Target:
    """The checked addresses of ``url``; ``Unusable`` unless Rapport may send there."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Unusable("Not a URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unusable("Only http:// and https:// URLs with a host.")
    if parts.username is not None or parts.password is not None:
        raise Unusable("No credentials in the URL: the signature authenticates Rapport.")
    try:
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise Unusable(f"The host {parts.hostname!r} does not resolve.") from None
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in found))
    if not private_ok and any(_private(a) for a in addresses):
        raise Unusable("The host is private (loopback, link-local or a private network).")
    return Target(parts, port, addresses)


def check_url(url: str, private_ok: bool) -> None:
    """422 unless ``url`` is one Rapport may send to."""
    try:
        resolve(url, private_ok)
    except Unusable as exc:
        raise Invalid("the webhook URL is not usable", errors={"url": [str(exc)]}) from None


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return not ip.is_global or ip.is_multicast


def create(uow, settings, caller: Principal, data: dict) -> dict:
    partner_id = _owner(caller, data)
    kinds = sorted(set(data["kinds"]))
    if partner_id is not None and set(kinds) - set(PARTNER_KINDS):
        raise Forbidden("a partner may subscribe only to its own work: " + ", ".join(PARTNER_KINDS))
    check_url(data["url"], allow_private(settings))
    secret = data.get("secret") or "whsec_" + secrets.token_urlsafe(32)
    with uow() as work:
        row = WebhookSubscription(
            url=data["url"],
            kinds=kinds,
            partner_id=partner_id,
            secret=secret,
            description=data.get("description"),
            created_by=caller.subject,
            created_at=utcnow(),
        )
        work.session.add(row)
        work.session.flush()
        return {**view(row), "secret": secret}


def _owner(caller: Principal, data: dict) -> str | None:
    """The partner the subscription belongs to (None: internal)."""
    asked = data.get("partner_id")
    if caller.role == "partner":
        if asked not in (None, caller.partner_id):
            raise Forbidden("a partner may subscribe only to its own work")
        return caller.partner_id
    if asked is not None:
        raise Invalid(
            "a partner subscribes with its own credentials",
            errors={"partner_id": ["Only a partner token subscribes a partner."]},
        )
    return None


def listed(uow, caller: Principal, limit: int, cursor: str | None = None) -> dict:
    """A page of the subscriptions the caller may see, oldest first."""
    query = (
        select(WebhookSubscription)
        .order_by(WebhookSubscription.created_at, WebhookSubscription.id)
        .limit(limit + 1)
    )
    if caller.role == "partner":
        query = query.where(WebhookSubscription.partner_id == caller.partner_id)
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(WebhookSubscription.created_at, WebhookSubscription.id) > after)
    with uow.reader() as session:
        views = [view(row) for row in session.scalars(query)]
    return page(views, limit, lambda r: (r["created_at"].isoformat(), r["id"]))


def owned(session, caller: Principal, subscription_id: str) -> WebhookSubscription:
    """The subscription, if the caller may see it; another partner's is not found."""
    row = session.get(WebhookSubscription, subscription_id)
    if row is None or (caller.role == "partner" and row.partner_id != caller.partner_id):
        raise NotFound(f"no webhook {subscription_id}")
    return row


def get(uow, caller: Principal, subscription_id: str) -> dict:
    with uow.reader() as session:
        return view(owned(session, caller, subscription_id))


def delete(uow, caller: Principal, subscription_id: str) -> None:
    with uow() as work:
        row = owned(work.session, caller, subscription_id)
        work.session.execute(
            sa_delete(WebhookDelivery).where(WebhookDelivery.subscription_id == row.id)
        )
        work.session.delete(row)


def view(row: WebhookSubscription) -> dict:
    return {
        "id": row.id,
        "url": row.url,
        "kinds": list(row.kinds),
        "partner_id": row.partner_id,
        "description": row.description,
        "created_by": row.created_by,
        "created_at": row.created_at,
    }


def deliveries(
    uow,
    caller: Principal,
    subscription_id: str,
    status: str | None,
    limit: int,
    cursor: str | None = None,
) -> dict:
    """A page of the subscription's deliveries, newest first."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit + 1)
    )
    if status:
        query = query.where(WebhookDelivery.status == status)
    before = decode_time_cursor(cursor)
    if before:
        query = query.where(tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < before)
    with uow.reader() as session:
        owned(session, caller, subscription_id)
        rows = list(session.scalars(query))
    return page(
        [delivery_view(row) for row in rows],
        limit,
        lambda r: (r["created_at"].isoformat(), r["id"]),
    )


def resend(uow, caller: Principal, subscription_id: str, delivery_id: str) -> dict:
    """Send a delivery again at once, with a fresh count of attempts."""
    with uow() as work:
        owned(work.session, caller, subscription_id)
        row = work.session.get(WebhookDelivery, delivery_id, with_for_update=True)
        if row is None or row.subscription_id != subscription_id:
            raise NotFound(f"no delivery {delivery_id} of webhook {subscription_id}")
        row.status, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
        row.delivered_at = None
        return delivery_view(row)


def delivery_view(row: WebhookDelivery) -> dict:
    return {
        name: getattr(row, name)
        for name in (
            "id",
            "kind",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "created_at",
            "delivered_at",
            "payload",
        )
    }
