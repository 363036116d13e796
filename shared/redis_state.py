"""State every worker and replica of every service shares, kept in Redis
(``RAPPORT_REDIS_URL``): request-rate counts and the partner clients revoked.

Without ``RAPPORT_REDIS_URL`` (``make run``) there is no such state: no rate limits,
and a revoked client's tokens are refused by the calls service only (which checks
its own record), the others keeping them until they expire (minutes; see
docs/security.md).

Redis answering slowly or not at all must not take the API down with it: each call
has a short timeout and every failure *fails open* (the request is let through, the
failure logged and counted in ``rapport_shared_state_errors_total``); after a
failure Redis is left alone for a few seconds, so requests are not each made to
wait for the timeout.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from dataclasses import dataclass
from functools import cache

import redis

from shared.config import ConfigError, Settings
from shared.metrics import metrics_for

log = logging.getLogger(__name__)

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_LIMIT = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$")

# One round trip: count this request in the current window, and give the window's
# remaining time (the key is made to expire with its window).
_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}
"""


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str | None, name: str) -> Limit | None:
        """``"600/minute"``, ``"50/10second"``; ``""``, ``"off"`` or ``"0"``: none."""
        if text is None or text.strip().lower() in {"", "off", "0", "none"}:
            return None
        match = _LIMIT.match(text.lower())
        if not match:
            raise ConfigError(
                f"{name}={text!r}: write <count>/<period>, as 600/minute "
                f"or 50/10second (periods: {', '.join(PERIODS)})"
            )
        count, multiple, period = int(match[1]), int(match[2] or 1), match[3]
        if count < 1 or multiple < 1:
            raise ConfigError(f"{name}={text!r}: the count and period must be positive")
        return cls(count, multiple * PERIODS[period])


class SharedState:
    """One Redis connection pool per process, with the fail-open guard."""

    def __init__(
        self, url: str, prefix: str, service: str, timeout: float = 0.25, pause: float = 5.0
    ):
        self.prefix, self.pause = prefix, pause
        self.errors = metrics_for(service).shared_state_errors
        self.redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._hit = self.redis.register_script(_HIT)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, use: str, exc: Exception) -> None:
        self.errors.labels(use).inc()
        with self._lock:
            first = self._available()
            self._down_until = time.monotonic() + self.pause
        if first:
            log.warning(
                "shared state (Redis) unavailable for %s, letting requests through for %ss: %r",
                use,
                self.pause,
                exc,
            )

    def hit(self, key: str, limit: Limit) -> float | None:
        """Count a request against ``limit``; the seconds to wait when over it, else
        None (and None when Redis is unavailable: fail open)."""
        if not self._available():
            return None
        window = int(time.time() // limit.seconds)
        try:
            count, ttl_ms = self._hit(
                keys=[f"{self.prefix}:rate:{key}:{window}"], args=[limit.seconds * 1000]
            )
        except redis.RedisError as exc:
            self._failed("rate_limit", exc)
            return None
        if int(count) <= limit.count:
            return None
        return max(1, math.ceil(int(ttl_ms) / 1000)) if int(ttl_ms) > 0 else limit.seconds

    def revoke_client(self, client_id: str, ttl_seconds: int) -> bool:
        """Record a revoked partner client for as long as its tokens can live."""
        try:
            self.redis.set(
                f"{self.prefix}:revoked-client:{client_id}", "1", ex=max(1, int(ttl_seconds))
            )
            return True
        except redis.RedisError as exc:
            self._failed("revocation", exc)
            return False

    def client_revoked(self, client_id: str) -> bool:
        if not self._available():
            return False
        try:
            return bool(self.redis.exists(f"{self.prefix}:revoked-client:{client_id}"))
        except redis.RedisError as exc:
            self._failed("revocation", exc)
            return False


@cache
def _state(url: str, prefix: str, service: str) -> SharedState:
    return SharedState(url, prefix, service)


def shared_state(settings: Settings) -> SharedState | None:
    """The process's shared state, or None without ``RAPPORT_REDIS_URL``."""
    url = settings.get("REDIS_URL")
    if not url:
        return None
    return _state(url, settings.get("REDIS_PREFIX", settings.namespace), settings.service)


@dataclass(frozen=True)
class RateLimits:
    """Requests allowed per partner (all its tokens together) and per token."""

    partner: Limit | None
    token: Limit | None

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(
            Limit.parse(
                settings.get("RATE_LIMIT_PARTNER", "600/minute"), "RAPPORT_RATE_LIMIT_PARTNER"
            ),
            Limit.parse(
                settings.get("RATE_LIMIT_TOKEN", "1200/minute"), "RAPPORT_RATE_LIMIT_TOKEN"
            ),
        )
