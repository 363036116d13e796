"""A container's health check: ``python -m deploy.healthcheck [api|consumer|relay]``.

Fetches ``/readyz`` of the process running in this container (its port comes from
the same settings the process reads: ``<SERVICE>_PORT`` for the API, plus 100 for
the consumer and 200 for the relay unless ``_CONSUMER_PORT``/``_RELAY_PORT`` say
otherwise) and exits 0 when it answers 200, 1 otherwise, with one line saying why.
Without a role, the role is the one the container's first process was started as,
so one image-level HEALTHCHECK fits all three process types.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from deploy.run import ROLES
from shared.config import DEFAULT_PORTS, Settings

TIMEOUT_SECONDS = 4


def role_of_first_process(cmdline: Path = Path("/proc/1/cmdline")) -> str:
    """``deploy.run`` replaces itself with gunicorn (api) or the role's entry point."""
    try:
        argv = cmdline.read_bytes().split(b"\0")
    except OSError:
        return "api"
    for role in ("consumer", "relay"):
        if any(
            arg == role.encode() or arg.endswith(f"entrypoints.{role}".encode()) for arg in argv
        ):
            return role
    return "api"


def port(service: str, role: str, env=None) -> int:
    env = dict(os.environ if env is None else env)
    # The secret plays no part in the port; a check must not fail for want of it.
    env.setdefault("RAPPORT_DEV_MODE", "1")
    settings = Settings.from_env(service, env)
    return settings.port if role == "api" else settings.process_port(role)


def main(argv: list[str]) -> int:
    role = argv[0] if argv else role_of_first_process()
    service = os.environ.get("RAPPORT_SERVICE", "")
    if role not in ROLES or service not in DEFAULT_PORTS:
        print(
            f"usage: RAPPORT_SERVICE=<{'|'.join(DEFAULT_PORTS)}> python -m deploy.healthcheck "
            f"[{'|'.join(ROLES)}]",
            file=sys.stderr,
        )
        return 2
    url = f"http://127.0.0.1:{port(service, role)}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as answer:
            return 0 if answer.status == 200 else 1
    except urllib.error.HTTPError as exc:
        print(f"{service} {role}: {url} answered {exc.code}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        print(
            f"{service} {role}: {url} unreachable: {getattr(exc, 'reason', exc)}", file=sys.stderr
        )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
