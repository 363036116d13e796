"""gunicorn keeps an idle connection open for ``RAPPORT_WEB_KEEPALIVE`` seconds: behind
an ingress that keeps its own connections to the pods longer than gunicorn does, the
ingress now and then sends a request on a connection being closed and answers 502."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from deploy.launcher import free_ports
from tests.support.gunicorn_api import start_customer_api

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"


def _read_answer(sock: socket.socket) -> bytes:
    """One whole answer (headers and a Content-Length body), or b"" if the server
    closed the connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return data


@pytest.mark.parametrize(
    "setting, kept", [(None, False), ("6", True)], ids=["default-2s", "keepalive-6s"]
)
def test_an_idle_connection_is_kept_as_long_as_the_setting_says(tmp_path, setting, kept):
    [port] = free_ports(1)
    extra = {"RAPPORT_LOG_LEVEL": "WARNING"}
    if setting:
        extra["RAPPORT_WEB_KEEPALIVE"] = setting
    api = start_customer_api(tmp_path, port, extra)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(REQUEST)
            assert _read_answer(sock).startswith(b"HTTP/1.1 200")
            time.sleep(3.5)  # idle: past gunicorn's own 2 s (and its check a second)
            try:
                sock.sendall(REQUEST)
                answer = _read_answer(sock)
            except OSError:  # reset: closed
                answer = b""
            assert answer.startswith(b"HTTP/1.1 200") is kept, answer
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        api.wait(30)
