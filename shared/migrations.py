"""Alembic migrations per service, run on every process start under a lock.

Each service keeps its scripts in ``services/<name>/migrations``; its ``env.py``
calls ``run_env`` with the service's metadata. ``upgrade`` serialises concurrent
starts (API, consumer and relay starting together): an advisory lock on
PostgreSQL, a file lock beside the database file on SQLite.

A process waiting for the PostgreSQL lock asks for it again every ``LOCK_POLL``
seconds rather than waiting inside one statement: a statement holds a snapshot
while it waits, and an index the migration builds concurrently waits for every
older snapshot to go, so the two would wait for each other.
"""

from __future__ import annotations

import fcntl
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url

from shared.db import make_engine

LOCK_POLL = 0.2  # seconds between two asks for the migration lock


def upgrade(database_url: str, script_location: str | Path, revision: str = "head") -> None:
    engine = make_engine(database_url)
    try:
        with _migration_lock(engine, database_url) as connection:
            cfg = Config()
            cfg.set_main_option("script_location", str(script_location))
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()


@contextmanager
def _migration_lock(engine, database_url: str):
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        key = zlib.crc32(b"rapport-migrations")
        with engine.connect() as connection:
            while not connection.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": key}
            ).scalar():
                connection.commit()  # no snapshot held while waiting
                time.sleep(LOCK_POLL)
            connection.commit()
            try:
                yield connection
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
        return
    lock_path = Path(f"{url.database}.migrate.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            with engine.connect() as connection:
                yield connection
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def run_env(target_metadata) -> None:
    """The body of every service's ``migrations/env.py``."""
    connection = context.config.attributes.get("connection")
    if connection is None:  # the alembic CLI: take the URL from -x url=...
        url = context.get_x_argument(as_dictionary=True)["url"]
        engine = make_engine(url)
        with engine.connect() as connection:
            _run(connection, target_metadata)
        return
    _run(connection, target_metadata)


def _run(connection, target_metadata) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


def revision(script_location: str | Path, message: str) -> None:
    """Autogenerate a new revision against a scratch SQLite database at head."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{scratch}/scratch.db"
        upgrade(url, script_location)
        engine = make_engine(url)
        with engine.connect() as connection:
            cfg = Config()
            cfg.set_main_option("script_location", str(script_location))
            cfg.attributes["connection"] = connection
            command.revision(cfg, message=message, autogenerate=True)
        engine.dispose()


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 4 or sys.argv[1] != "revision":
        sys.exit("usage: python -m shared.migrations revision <migrations dir> <message>")
    revision(sys.argv[2], sys.argv[3])
