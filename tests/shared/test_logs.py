"""Every process logs JSON lines only: a real gunicorn API (its master's start-up lines,
its workers, an access line a request with the ids the answer carries) and a process
configured by ``shared.logs`` (warnings and uncaught exceptions included)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from deploy.launcher import free_ports
from tests.conftest import auth
from tests.support.gunicorn_api import start_customer_api

ROOT = Path(__file__).resolve().parents[2]
ACCESS_FIELDS = {
    "method",
    "path",
    "status",
    "duration_ms",
    "bytes",
    "remote_addr",
    "user_agent",
    "request_id",
    "correlation_id",
}


def _records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]  # fails on any other line


def test_a_gunicorn_api_logs_json_lines_and_an_access_line_a_request(tmp_path):
    [port] = free_ports(1)
    with open(tmp_path / "stdout", "wb") as out, open(tmp_path / "stderr", "wb") as err:
        api = start_customer_api(tmp_path, port, stdout=out, stderr=err)
        base = f"http://127.0.0.1:{port}"
        # (method, path, status, request id answered, correlation id sent)
        sent = [("GET", "/healthz", 200, None, None)]  # the start's check
        try:
            for method, path, headers, status in [
                ("GET", "/api/v1/periodic-jobs", {**auth(), "X-Correlation-ID": "corr-1"}, 200),
                (
                    "GET",
                    "/api/v1/periodic-jobs",
                    {"X-Request-ID": "req-given", "X-Correlation-ID": "corr-2"},
                    401,
                ),
                (
                    "POST",
                    "/api/v1/customers",
                    {**auth(), "Content-Type": "application/json", "X-Correlation-ID": "corr-3"},
                    400,
                ),
                ("GET", "/nowhere", {**auth(), "User-Agent": "log-test/1"}, 404),
            ]:
                answer = requests.request(
                    method, base + path, headers=headers, data="{", timeout=10
                )
                assert answer.status_code == status, answer.text
                sent.append(
                    (
                        method,
                        path,
                        status,
                        answer.headers["X-Request-ID"],
                        headers.get("X-Correlation-ID"),
                    )
                )
            assert sent[2][3] == "req-given"
            scraped = requests.get(f"{base}/metrics", timeout=10).text
        finally:
            os.killpg(api.pid, signal.SIGTERM)
            api.wait(30)
    assert (tmp_path / "stdout").read_text() == ""
    records = _records((tmp_path / "stderr").read_text())
    assert {(r["service"], r["process_role"]) for r in records} == {("customer", "api")}
    messages = [r["message"] for r in records if r["logger"] == "gunicorn.error"]
    assert any(m.startswith("Starting gunicorn") for m in messages)
    assert any(m.startswith("Booting worker") for m in messages)
    assert any("Shutting down" in m for m in messages)
    access = [r for r in records if r["logger"] == "gunicorn.access"]
    # One line a request (the probe's too). Two workers write to one stream, each after
    # its answer is sent, so lines of consecutive requests may land in either order:
    # each request's line is found by the request id it was answered with.
    answered = [a for a in access if a["path"] not in ("/healthz", "/metrics")]
    assert sorted(a["path"] for a in answered) == sorted(path for _, path, *_ in sent[1:])
    by_id = {a["request_id"]: a for a in answered}
    for method, path, status, request_id, correlation_id in sent[1:]:
        line = by_id[request_id]
        assert line.keys() >= ACCESS_FIELDS
        assert (line["path"], line["method"], line["status"]) == (path, method, status)
        assert line["correlation_id"] == (correlation_id or request_id)
        assert line["duration_ms"] >= 0 and line["bytes"] > 0
        assert line["remote_addr"] == "127.0.0.1"
    assert [a["path"] for a in access].count("/metrics") == 1
    assert [a["user_agent"] for a in access if a["path"] == "/nowhere"] == ["log-test/1"]
    # gunicorn's workers share their samples through PROMETHEUS_MULTIPROC_DIR, labelled
    # with the service.
    requests_total = {
        (s.labels["service"], s.labels["endpoint"], s.labels["status"]): s.value
        for family in text_string_to_metric_families(scraped)
        for s in family.samples
        if s.name == "rapport_http_requests_total"
    }
    assert requests_total[("customer", "/api/v1/periodic-jobs", "200")] == 1
    assert requests_total[("customer", "/api/v1/periodic-jobs", "401")] == 1


PROCESS = """
import logging, threading, warnings
from shared import context, logs
logs.configure("sales", "consumer")
context.event_id.set("evt-1")
logging.getLogger("x").info("handled")
warnings.warn("a warning")
thread = threading.Thread(target=lambda: 1 / 0, name="worker")
thread.start(); thread.join()
class Finalised:
    def __del__(self):
        raise ValueError("in a finaliser")
Finalised()
raise RuntimeError("nothing caught this")
"""


def test_a_configured_process_writes_warnings_and_uncaught_errors_as_json():
    done = subprocess.run(
        [sys.executable, "-c", PROCESS], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and done.stdout == ""
    records = _records(done.stderr)
    assert {(r["service"], r["process_role"]) for r in records} == {("sales", "consumer")}
    assert [(r["logger"], r["level"]) for r in records] == [
        ("x", "INFO"),
        ("py.warnings", "WARNING"),
        ("shared.logs", "CRITICAL"),
        ("shared.logs", "ERROR"),
        ("shared.logs", "CRITICAL"),
    ]
    assert records[0]["event_id"] == "evt-1"
    assert "ZeroDivisionError" in records[2]["exc_info"]
    assert "worker" in records[2]["message"]
    assert "ValueError: in a finaliser" in records[3]["exc_info"]
    assert "RuntimeError: nothing caught this" in records[4]["exc_info"]


def test_an_id_a_record_brings_is_kept():
    import logging

    from shared import context, logs

    handler = logs.structure(logging.StreamHandler(), "calls", "api")
    token = context.request_id.set(f"ctx-{uuid.uuid4()}")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        record.request_id = "from-the-record"
        handler.filter(record)
        assert json.loads(handler.format(record))["request_id"] == "from-the-record"
        bare = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        handler.filter(bare)
        assert json.loads(handler.format(bare))["request_id"] == context.request_id.get()
    finally:
        context.request_id.reset(token)
