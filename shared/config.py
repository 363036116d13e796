"""Configuration read from the environment in one place.

Each key is looked up as ``<SERVICE>_<KEY>`` first, then ``RAPPORT_<KEY>``, then
the default, so one machine can run every service with shared settings (broker,
auth secret) and per-service ones (database, ports). Tests pass a mapping instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORTS = {"customer": 8001, "calls": 8002, "sales": 8003, "reporting": 8004}
DEV_SECRET = "rapport-development-secret-not-for-production"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the process must not start."""


def _lookup(env: Mapping[str, str], service: str, key: str, default=None, plain=False):
    names = [f"{service.upper()}_{key}", f"RAPPORT_{key}"] + ([key] if plain else [])
    for name in names:
        if name in env and env[name] != "":
            return env[name]
    return default


def _truthy(value) -> bool:
    return str(value).lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    amqp_url: str
    namespace: str
    auth_secret: str
    dev_mode: bool
    data_dir: Path
    port: int
    prefetch: int
    delivery_limit: int
    relay_batch: int
    relay_poll_seconds: float
    log_level: str
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None) -> Settings:
        plain = env is not None  # a mapping from a test may use bare keys
        env = dict(os.environ if env is None else env)
        get = lambda key, default=None: _lookup(env, service, key, default, plain)  # noqa: E731
        data_dir = Path(get("DATA_DIR", "var/data")).resolve()
        dev_mode = _truthy(get("DEV_MODE", "0"))
        secret = get("AUTH_SECRET")
        if not secret:
            if not dev_mode:
                raise ConfigError(
                    "RAPPORT_AUTH_SECRET is not set; set it, or RAPPORT_DEV_MODE=1 "
                    "for a local development run with a built-in secret"
                )
            secret = DEV_SECRET
        port = int(get("PORT", DEFAULT_PORTS.get(service, 8000)))
        return cls(
            service=service,
            database_url=get("DATABASE_URL", f"sqlite:///{data_dir / (service + '.db')}"),
            amqp_url=get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
            namespace=get("NAMESPACE", "rapport"),
            auth_secret=secret,
            dev_mode=dev_mode,
            data_dir=data_dir,
            port=port,
            prefetch=int(get("PREFETCH", 500)),
            delivery_limit=int(get("DELIVERY_LIMIT", 5)),
            relay_batch=int(get("RELAY_BATCH", 500)),
            relay_poll_seconds=float(get("RELAY_POLL_SECONDS", 0.02)),
            log_level=get("LOG_LEVEL", "INFO"),
            extra=env,
        )

    def get(self, key: str, default=None):
        return _lookup(self.extra, self.service, key, default, plain=True)

    def process_port(self, role: str) -> int:
        """Port of the health and metrics endpoint of a consumer or relay process."""
        offset = {"consumer": 100, "relay": 200}[role]
        return int(self.get(f"{role.upper()}_PORT", self.port + offset))
