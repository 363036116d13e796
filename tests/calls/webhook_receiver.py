"""A real HTTP server on loopback that takes webhook deliveries, for the tests: it
records every request, verifies nothing itself, and can go down and come back on
the same port (connections refused meanwhile)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self):
        self.received: list[tuple[str, dict, bytes]] = []
        self.lock = threading.Lock()
        self.server = None
        self.port = 0
        self.up()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.received.append((self.path, dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def bodies(self, path: str) -> list[dict]:
        with self.lock:
            return [json.loads(body) for p, _, body in self.received if p == path]

    def times_each(self, path: str) -> Counter:
        return Counter(body["id"] for body in self.bodies(path))


def verify(secret: str, headers: dict, body: bytes) -> bool:
    """What a receiver does with ``Rapport-Signature`` (the snippet in docs/calls.md)."""
    parts = dict(item.split("=", 1) for item in headers["Rapport-Signature"].split(","))
    expected = hmac.new(
        secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])
