"""On PostgreSQL the quality rules' indexes are rebuilt without holding writes to
``calls`` (``CREATE INDEX CONCURRENTLY``, never a plain ``CREATE INDEX`` on it): a
large table keeps taking outcomes while they build. The indexes come out as on a
fresh database, valid, with nothing left beside them, after an interrupted attempt
too; and the downgrade gives the old ones back."""

import threading

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text

from services.calls import config
from shared import migrations

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

BEFORE, REVISION = "b4d8f2a6c3e9", "c5e2a8d4f1b7"
NAMES = ("ix_calls_agent_completed", "ix_calls_completer_completed")


def _indexes(url: str) -> dict[str, tuple[str, bool]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = {
            name: (definition, valid)
            for name, definition, valid in conn.execute(
                text(
                    "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid "
                    "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_class t ON t.oid = i.indrelid "
                    "WHERE t.relname = 'calls' AND c.relname LIKE 'ix_calls_%complet%'"
                )
            )
        }
    engine.dispose()
    return found


def _upgrade_recording(url: str, revision: str, down: bool = False) -> list[str]:
    """Run the migration on a connection of our own, recording every statement."""
    engine = create_engine(url)
    statements: list[str] = []
    event.listen(
        engine, "before_cursor_execute", lambda *args: statements.append(" ".join(args[2].split()))
    )
    with engine.connect() as connection:
        cfg = Config()
        cfg.set_main_option("script_location", str(config.MIGRATIONS))
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)
    engine.dispose()
    return statements


def test_the_indexes_are_rebuilt_concurrently_and_come_out_as_on_a_fresh_database(
    postgres_database,
):
    url = postgres_database
    migrations.upgrade(url, config.MIGRATIONS, BEFORE)
    old = _indexes(url)
    assert set(old) == set(NAMES) and all(valid for _, valid in old.values())
    engine = create_engine(url)
    with engine.begin() as conn:  # what an upgrade stopped mid-build leaves behind
        conn.execute(text("CREATE INDEX ix_calls_agent_completed_building ON calls (agent_id)"))
    engine.dispose()

    statements = _upgrade_recording(url, REVISION)
    builds = [s for s in statements if s.upper().startswith("CREATE INDEX")]
    assert len(builds) == 2 and all("CONCURRENTLY" in s.upper() for s in builds), builds
    drops = [s for s in statements if s.upper().startswith("DROP INDEX")]
    assert drops and all("CONCURRENTLY" in s.upper() for s in drops), drops
    new = _indexes(url)
    assert set(new) == set(NAMES)  # the leftover and the builds' names are gone
    for name in NAMES:
        definition, valid = new[name]
        assert valid and "completed_at, id)" in definition and "IS NOT NULL" in definition

    _upgrade_recording(url, BEFORE, down=True)
    assert _indexes(url) == old
    migrations.upgrade(url, config.MIGRATIONS)  # and up to head again, as a deploy does
    assert _indexes(url) == new


def test_processes_starting_together_migrate_once_each_without_deadlocking(postgres_database):
    """Pods, and the migration Job, start together and take turns by the migration
    lock; one waiting for the lock must not hold a snapshot the concurrent build
    waits for (each would wait for the other)."""
    url = postgres_database
    migrations.upgrade(url, config.MIGRATIONS, BEFORE)
    errors: list[BaseException] = []

    def start():
        try:
            migrations.upgrade(url, config.MIGRATIONS)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert all(not thread.is_alive() for thread in threads)
    new = _indexes(url)
    assert set(new) == set(NAMES) and all(valid for _, valid in new.values())
