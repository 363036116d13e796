"""The whole system as separate OS processes, as ``make run`` starts it.

Every process reaches RabbitMQ through a TCP proxy the tests can cut. The system
runs once on SQLite files and once on PostgreSQL databases.
"""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import pika
import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from urllib3.util.retry import Retry

from deploy.launcher import SERVICES, System, port_settings
from shared.auth import issue_token
from shared.messaging import topology
from tests.support.tcp_proxy import TcpProxy

HERE = Path(__file__).parent


def _session() -> requests.Session:
    """A session that sends a GET again when a kept-alive connection was closed under
    it. gunicorn closes a connection idle for its keep-alive time (2 s); a request
    sent on it in the same instant meets a closed socket and no answer. A browser
    or any HTTP client worth its name sends an idempotent request again on a fresh
    connection then (RFC 9110, 9.2.2), and so does this one. A POST is never sent
    twice: its failure is the test's to see."""
    session = requests.Session()
    retry = Retry(total=2, connect=2, read=2, status=0, allowed_methods={"GET"}, backoff_factor=0)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


class Client:
    """HTTP against one running system, with tokens signed by its secret."""

    def __init__(self, system: System, secret: str):
        self.system = system
        self.secret = secret
        self.http = _session()

    def headers(self, role="manager", partner_id=None, subject="e2e"):
        return {"Authorization": f"Bearer {issue_token(self.secret, subject, role, partner_id)}"}

    def call(self, method, service, path, role="manager", **kw):
        kw.setdefault("headers", self.headers(role))
        return self.http.request(
            method, f"{self.system.api_url(service)}/api/v1{path}", timeout=10, **kw
        )

    def get(self, service, path, **kw):
        return self.call("GET", service, path, **kw)

    def post(self, service, path, **kw):
        return self.call("POST", service, path, **kw)


def _postgres_urls(admin_url: str, tag: str) -> dict:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    urls = {}
    with admin.connect() as conn:
        for service in SERVICES:
            name = f"rapport_e2e_{tag}_{service}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            urls[service] = (
                make_url(admin_url).set(database=name).render_as_string(hide_password=False)
            )
    admin.dispose()
    return urls


def _drop_postgres(admin_url: str, urls: dict) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for url in urls.values():
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.hookimpl(trylast=True)  # after pytest's own grouping by fixture parameters
def pytest_collection_modifyitems(items):
    """The tests on the shared ``running_system`` first, all of SQLite's then all of
    PostgreSQL's, so each of the two systems starts once. pytest's grouping by
    parameter interleaves them when modules have fixtures of their own, and each
    switch stops one system and starts the other (about 15 s each). The tests on a
    system of their own keep their order after them."""

    def key(indexed):
        index, item = indexed
        shared = (
            "running_system" in item.fixturenames
            and not hasattr(item.module, "running_system")
            and item.path.parent == HERE
        )
        if not shared:
            return (1, 0, index)
        return (0, 0 if item.callspec.params["running_system"] == "sqlite" else 1, index)

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]


@pytest.fixture(scope="session", params=DATABASES)
def running_system(request, amqp_url, tmp_path_factory):
    """One system per database, shared by every module that needs no settings of its
    own (each test works in segments, customers and agents of its own): starting a
    dozen processes is most of an end-to-end test's time. A module that needs other
    settings defines a ``running_system`` of its own with ``start_system``."""
    yield from start_system(request, amqp_url, tmp_path_factory)


def start_system(request, amqp_url, tmp_path_factory, extra_env=None, replicas=1, database=None):
    """Every process of the system on ``database``'s (else ``request.param``'s)
    databases, ``extra_env`` added to the environment and ``replicas`` of each
    consumer and relay (which only PostgreSQL allows); yields a ``Client``."""
    database = database or request.param
    tag = uuid.uuid4().hex[:8]
    proxy = TcpProxy()
    secret = secrets.token_hex(32)
    data = tmp_path_factory.mktemp(f"system-{database}")
    env = {
        "PATH": "/usr/bin:/bin",
        "RAPPORT_AUTH_SECRET": secret,
        "RAPPORT_AMQP_URL": proxy.url(),
        "RAPPORT_NAMESPACE": f"e2e-{tag}",
        "RAPPORT_DATA_DIR": str(data / "data"),
        "RAPPORT_WEB_WORKERS": "1",
        "RAPPORT_LOG_LEVEL": "INFO",
        **(extra_env or {}),
    }
    pg_urls = {}
    if database == "postgres":
        admin_url = request.getfixturevalue("postgres_admin_url")
        pg_urls = _postgres_urls(admin_url, tag)
        env.update({f"{s.upper()}_DATABASE_URL": url for s, url in pg_urls.items()})
    env.update(port_settings())
    system = System(env, log_dir=data / "log", replicas=replicas)
    system.start()
    try:
        system.wait_ready(90)
        client = Client(system, secret)
        client.proxy = proxy
        yield client
    finally:
        system.stop()
        proxy.close()
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        topology.delete(conn.channel(), topology.Names(env["RAPPORT_NAMESPACE"]))
        conn.close()
        if pg_urls:
            _drop_postgres(request.getfixturevalue("postgres_admin_url"), pg_urls)
