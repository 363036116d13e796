"""deploy/healthcheck.py, the containers' health check: it asks /readyz of the
process on the port that process serves (the API's, +100 the consumer's, +200 the
relay's), and fails when the process is not ready or not there."""

from __future__ import annotations

import socket

import pytest

from deploy import healthcheck
from shared.process import serve_health


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ready():
    return {"now": False}


@pytest.fixture
def consumer_port(ready):
    """A consumer's health server, on the port the sales consumer of a stack whose API
    is on ``port - 100`` serves."""
    port = free_port()
    server = serve_health("127.0.0.1", port, lambda: ready["now"])
    yield port
    server.shutdown()
    server.server_close()


def test_the_port_of_each_role_follows_the_processes_settings():
    env = {"SALES_PORT": "9003", "RAPPORT_AUTH_SECRET": "x"}
    assert [healthcheck.port("sales", r, env) for r in ("api", "consumer", "relay")] == [
        9003,
        9103,
        9203,
    ]
    assert healthcheck.port("sales", "relay", {"SALES_RELAY_PORT": "7000"}) == 7000
    assert healthcheck.port("customer", "api", {}) == 8001  # no secret needed to look


def test_a_ready_process_is_healthy_and_one_not_ready_or_absent_is_not(
    consumer_port, ready, monkeypatch, capsys
):
    monkeypatch.setenv("RAPPORT_SERVICE", "sales")
    monkeypatch.setenv("SALES_PORT", str(consumer_port - 100))
    monkeypatch.delenv("SALES_CONSUMER_PORT", raising=False)
    assert healthcheck.main(["consumer"]) == 1
    assert capsys.readouterr().err.strip() == (
        f"sales consumer: http://127.0.0.1:{consumer_port}/readyz answered 503"
    )
    ready["now"] = True
    assert healthcheck.main(["consumer"]) == 0
    monkeypatch.setenv("SALES_CONSUMER_PORT", str(free_port()))
    assert healthcheck.main(["consumer"]) == 1
    assert "unreachable" in capsys.readouterr().err


def test_without_a_role_it_is_the_role_the_first_process_runs(tmp_path):
    cmdline = tmp_path / "cmdline"
    for argv, role in (
        [["python", "-m", "services.calls.entrypoints.relay"], "relay"],
        [["python", "-m", "services.calls.entrypoints.consumer"], "consumer"],
        [["python", "-m", "deploy.run", "consumer"], "consumer"],
        [
            [
                "/opt/rapport/bin/python",
                "-m",
                "gunicorn",
                "-c",
                "python:deploy.gunicorn_conf",
                "services.calls.app:create_app()",
            ],
            "api",
        ],
    ):
        cmdline.write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
        assert healthcheck.role_of_first_process(cmdline) == role
    assert healthcheck.role_of_first_process(tmp_path / "absent") == "api"


def test_an_unknown_service_or_role_is_a_usage_line(monkeypatch, capsys):
    monkeypatch.setenv("RAPPORT_SERVICE", "billing")
    assert healthcheck.main(["api"]) == 2
    monkeypatch.setenv("RAPPORT_SERVICE", "sales")
    assert healthcheck.main(["web"]) == 2
    assert capsys.readouterr().err.count("usage:") == 2
