"""Fixtures for the whole suite: databases, the real broker, tokens, apps.

Integration tests use the real local RabbitMQ (``RAPPORT_TEST_AMQP_URL``) and
PostgreSQL (``RAPPORT_TEST_POSTGRES_URL``); PostgreSQL comes from testcontainers
only where a Docker engine answers, and tests needing it skip cleanly otherwise.
Each test gets its own broker namespace and its own databases, removed after.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

import pika
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from deploy.launcher import DEFAULT_PORT_RANGE
from shared import migrations
from shared.auth import issue_token
from shared.config import DEV_SECRET
from shared.messaging import topology
from tests.support.browser import axe_source, chromium, shots  # noqa: F401  (fixtures)


def _port_block() -> None:
    """Under pytest-xdist each test process draws its systems' ports from a block
    of its own (``RAPPORT_PORT_RANGE``, deploy/launcher.py), so two systems started
    by two processes at once never pick the same port."""
    worker, count = (
        os.environ.get("PYTEST_XDIST_WORKER"),
        os.environ.get("PYTEST_XDIST_WORKER_COUNT"),
    )
    if worker and count:
        low, high = map(int, DEFAULT_PORT_RANGE.split("-"))
        size = (high - low + 1) // int(count)
        start = low + int(worker.removeprefix("gw")) * size
        os.environ["RAPPORT_PORT_RANGE"] = f"{start}-{start + size - 1}"


_port_block()


# Fixtures a unit test may ask for: none brings a database, the broker, a process or
# a browser. Any other fixture (tmp_path too: it holds SQLite files and process logs)
# makes a test an app or integration test.
UNIT_FIXTURES = frozenset(
    {"request", "monkeypatch", "capsys", "capfd", "caplog", "recwarn", "pytestconfig"}
)
UNIT_FOLDERS = ("tests/shared/", "/unit/")
NOT_UNIT_MARKERS = ("integration", "e2e", "postgres", "cluster")


def _is_unit(item) -> bool:
    """A test in tests/shared or a tests/<service>/unit folder that needs nothing but
    the fixtures above and its own parameters (``make check`` runs these: ``-m unit``)."""
    path = item.path.as_posix()
    if not any(folder in path for folder in UNIT_FOLDERS):
        return False
    if any(item.get_closest_marker(name) for name in NOT_UNIT_MARKERS):
        return False
    params = getattr(item, "callspec", None)
    own = set(params.params) if params else set()
    return set(item.fixturenames) <= UNIT_FIXTURES | own


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by the markers added here
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``--dist loadgroup``, as ``make test`` runs) the end-to-end
    tests, each module of which starts every process of the system, run one after
    another in one test process while the others share the rest: two whole systems
    at once on a two-core machine miss their waits."""
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group("system"))
        if _is_unit(item):
            item.add_marker(pytest.mark.unit)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """Under ``--dist loadgroup`` a test process sends the end-to-end tests with their
    group in their ids, which is how they all go to one process. A pytest that
    pytest-xdist cannot rename (9.2 with xdist 3.8) would spread them over both
    processes, two systems at once: stop instead."""
    if node.config.getoption("dist") != "loadgroup":
        return
    e2e = [nodeid for nodeid in ids if nodeid.startswith("tests/e2e/")]
    if e2e and not all(nodeid.endswith("@system") for nodeid in e2e):
        raise pytest.UsageError(
            "pytest-xdist did not group the end-to-end tests: pytest and pytest-xdist "
            "do not fit together (see the pin in pyproject.toml)"
        )


AMQP_URL = os.environ.get("RAPPORT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
POSTGRES_URL = os.environ.get(
    "RAPPORT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="session")
def amqp_url() -> str:
    """The local broker, given up to a minute to answer: a broker that has just
    started (or is busy recovering queues) accepts TCP before it completes an
    AMQP handshake."""
    deadline = time.monotonic() + 60
    while True:
        try:
            pika.BlockingConnection(
                pika.URLParameters(
                    AMQP_URL + "?connection_attempts=1&socket_timeout=10"
                    "&blocked_connection_timeout=10"
                )
            ).close()
            return AMQP_URL
        except Exception as exc:  # noqa: BLE001
            if time.monotonic() > deadline:
                pytest.fail(f"RabbitMQ is not reachable at {AMQP_URL}: {exc!r}")
            time.sleep(2)


@pytest.fixture
def namespace(amqp_url):
    """A broker namespace of the test's own, its exchanges and queues deleted after."""
    names = topology.Names(f"t-{uuid.uuid4().hex[:10]}")
    yield names
    # Twice at most: a busy broker has answered a queue's deletion with 541
    # INTERNAL_ERROR and closed the connection; deleting again is harmless.
    for attempt in (1, 2):
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        try:
            topology.delete(conn.channel(), names)
            break
        except pika.exceptions.AMQPError:
            if attempt == 2:
                raise
        finally:
            if conn.is_open:
                conn.close()


def _admin_postgres_url() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return POSTGRES_URL
    except Exception:  # noqa: BLE001 - fall back to a container, or skip
        pass
    try:
        from testcontainers.postgres import PostgresContainer

        container = PostgresContainer("postgres:16-alpine", driver="psycopg")
        container.start()
        return container.get_connection_url()
    except Exception:  # noqa: BLE001 - no Docker engine here
        return None


@pytest.fixture(scope="session")
def postgres_admin_url():
    url = _admin_postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL: neither RAPPORT_TEST_POSTGRES_URL nor Docker answers")
    return url


@pytest.fixture
def postgres_database(postgres_admin_url):
    """Create a fresh database, yield its URL, drop it after."""
    name = f"rapport_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """Run the test on SQLite and again on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.db'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'service.db'}"


def make_token(role: str = "manager", subject: str = "tester", partner_id: str | None = None):
    return issue_token(DEV_SECRET, subject, role, partner_id)


def auth(role: str = "manager", partner_id: str | None = None) -> dict:
    return {"Authorization": f"Bearer {make_token(role, partner_id=partner_id)}"}


@pytest.fixture
def service_app():
    """``service_app(create_app, migrations_dir, url)``: a migrated app in dev mode."""

    def build(create_app, migrations_dir, url, **extra):
        migrations.upgrade(url, migrations_dir)
        return create_app({"DATABASE_URL": url, "DEV_MODE": "1", **extra})

    return build


@pytest.fixture
def stopped_after_first_chunk(monkeypatch):
    """``stop(module, run, args)``: run an import job (``run(*args)``) in a thread of
    this "process", stop the process once the job has committed its first chunk
    (``shared.import_jobs.stop_all``, as a deploy's SIGTERM does) and answer how many
    jobs had not handed theirs back. After it the test is another process, not
    stopping."""
    from shared import import_jobs

    def stop(module, run, args: tuple) -> int:
        monkeypatch.setattr(import_jobs, "_stopping", threading.Event())
        commit, first = module._commit_chunk, threading.Event()

        def commit_then_wait_for_the_stop(*chunk):
            commit(*chunk)
            if not first.is_set():
                first.set()
                assert import_jobs._stopping.wait(30)

        monkeypatch.setattr(module, "_commit_chunk", commit_then_wait_for_the_stop)
        import_jobs.start_thread(run, args, "import-test")
        assert first.wait(30)
        left = import_jobs.stop_all(30)
        monkeypatch.setattr(import_jobs, "_stopping", threading.Event())
        monkeypatch.setattr(module, "_commit_chunk", commit)
        return left

    return stop
