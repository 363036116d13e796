"""Start one process of one service: ``python -m deploy.run api|consumer|relay``,
or bring its database to the newest schema and exit: ``python -m deploy.run migrate``.

The service comes from ``RAPPORT_SERVICE``. Used by the launcher and the images;
``migrate`` is what a deployment runs once before (or while) its processes start,
such as the Kubernetes migration Job (docs/deployment.md). Every process also
migrates on start under the same lock, so the two never run a migration at once.
"""

from __future__ import annotations

import os
import sys

SERVICES = ("customer", "calls", "sales", "reporting")
ROLES = ("api", "consumer", "relay")


def command(service: str, role: str, host: str, port: int) -> list[str]:
    if role == "api":
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:deploy.gunicorn_conf",
            "--bind",
            f"{host}:{port}",
            f"services.{service}.app:create_app()",
        ]
    return [sys.executable, "-m", f"services.{service}.entrypoints.{role}"]


def migrate(service: str) -> None:
    """Upgrade ``service``'s database to the head revision, under the migration lock."""
    import importlib

    from shared import migrations

    config = importlib.import_module(f"services.{service}.config")
    migrations.upgrade(config.load().database_url, config.MIGRATIONS)


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in ROLES + ("migrate",):
        sys.exit(f"usage: python -m deploy.run {'|'.join(ROLES + ('migrate',))}")
    service = os.environ.get("RAPPORT_SERVICE")
    if service not in SERVICES:
        sys.exit(f"set RAPPORT_SERVICE to one of {', '.join(SERVICES)}")
    if argv[0] == "migrate":
        migrate(service)
        return
    from shared.config import Settings

    settings = Settings.from_env(service)
    argv = command(service, argv[0], settings.get("HOST", "127.0.0.1"), settings.port)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
