"""Start one process of one service: ``python -m deploy.run api|consumer|relay``.

The service comes from ``RAPPORT_SERVICE``. Used by the launcher and the images.
"""
from __future__ import annotations

import os
import sys

SERVICES = ("customer", "calls", "sales", "reporting")
ROLES = ("api", "consumer", "relay")


def command(service: str, role: str, host: str, port: int) -> list[str]:
    if role == "api":
        return [sys.executable, "-m", "gunicorn", "-c", "python:deploy.gunicorn_conf",
                "--bind", f"{host}:{port}", f"services.{service}.app:create_app()"]
    return [sys.executable, "-m", f"services.{service}.entrypoints.{role}"]


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in ROLES:
        sys.exit(f"usage: python -m deploy.run {'|'.join(ROLES)}")
    service = os.environ.get("RAPPORT_SERVICE")
    if service not in SERVICES:
        sys.exit(f"set RAPPORT_SERVICE to one of {', '.join(SERVICES)}")
    from shared.config import Settings

    settings = Settings.from_env(service)
    argv = command(service, argv[0], settings.get("HOST", "127.0.0.1"), settings.port)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
