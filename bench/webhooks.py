"""Webhook delivery latency: notifications made at a fixed rate (a call reassigned
through the API, so a ``call.assigned`` event each), from the request that made the
event until a receiver on loopback has the signed delivery; every process of the
system separate, as in ``bench.system``. The baseline, measured in the same run, is
one POST straight to the same receiver.

    python -m bench.webhooks [--rate 50] [--seconds 20] [--tick 0.2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from bench.system import Bench

SKILLS = {
    "languages": ["zh-HK", "en"],
    "channels": ["phone"],
    "daily_capacity": 1000,
    "trainings": [{"name": "pdpo", "expires_on": "2099-01-01"}],
    "kind": "staff",
    "rate_per_minute": "2",
}


class Receiver:
    """Records when each notification (by its assignment reason) arrived."""

    def __init__(self):
        self.arrived: dict[str, float] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                # "manual: bench 12" for the 12th reassignment
                reason = (body["data"].get("reason") or "").removeprefix("manual: ")
                receiver.arrived.setdefault(reason or body["id"], time.perf_counter())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def baseline(receiver: Receiver, n: int = 200) -> tuple[float, float]:
    session, took = requests.Session(), []
    for i in range(n):
        started = time.perf_counter()
        session.post(receiver.url, json={"id": f"b{i}", "data": {}}, timeout=5)
        took.append(time.perf_counter() - started)
    return percentiles(took)


def latency(bench: Bench, receiver: Receiver, rate: float, seconds: float):
    segment = f"wh-{uuid.uuid4().hex[:6]}"
    for agent in ("x", "y"):
        bench.post(
            "calls",
            "/agents",
            {"id": f"{segment}-{agent}", "name": agent, "segments": [segment], **SKILLS},
        )
    customer = bench.customers(1, segment)[0]
    call_id = bench.calls(segment, [customer], "FREQ=DAILY;BYHOUR=10", 30)[customer][0]
    hook = bench.post("calls", "/webhooks", {"url": receiver.url, "kinds": ["call.assigned"]})
    bench.settle()
    sent: dict[str, float] = {}
    sent_at: dict[str, float] = {}  # wall clock, to compare with the rows' times
    count, started = int(rate * seconds), time.perf_counter()
    for n in range(count):  # one at a time: a reassignment locks the call
        time.sleep(max(0.0, started + n / rate - time.perf_counter()))
        reason = f"bench {n}"
        sent[reason], sent_at[reason] = time.perf_counter(), time.time()
        bench.post(
            "calls",
            f"/calls/{call_id}/assignment",
            {"agent_id": f"{segment}-{'xy'[n % 2]}", "reason": reason},
        )
    achieved = count / (time.perf_counter() - started)
    deadline = time.monotonic() + 120
    while len([r for r in sent if r in receiver.arrived]) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    samples = [receiver.arrived[r] - t for r, t in sent.items() if r in receiver.arrived]
    if len(samples) < 2:
        raise RuntimeError(f"{len(samples)} of {count} notifications arrived")
    rows = bench.get("calls", f"/webhooks/{hook['id']}/deliveries", limit=500)
    written = [
        datetime.fromisoformat(d["created_at"]).timestamp()
        - sent_at[d["payload"]["data"]["reason"].removeprefix("manual: ")]
        for d in rows
    ]
    return (*percentiles(samples), len(samples), count, achieved, percentiles(written))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--amqp-url",
        default=os.environ.get("RAPPORT_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
    )
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument(
        "--tick",
        type=float,
        default=None,
        help="CALLS_PERIODIC_TICK_SECONDS (the relay's default: 1)",
    )
    args = parser.parse_args()
    receiver = Receiver()
    b50, b99 = baseline(receiver)
    print(f"baseline POST to the receiver   p50 {b50:7.1f} ms  p99 {b99:7.1f} ms", flush=True)
    # The receiver is on loopback, which a system refuses by default.
    settings = {
        "CALLS_WEBHOOK_ALLOW_PRIVATE": "1",
        **({"CALLS_PERIODIC_TICK_SECONDS": str(args.tick)} if args.tick else {}),
    }
    with (
        tempfile.TemporaryDirectory() as work,
        Bench(args.amqp_url, Path(work), settings=settings) as bench,
    ):
        p50, p99, got, count, achieved, (w50, w99) = latency(
            bench, receiver, args.rate, args.seconds
        )
    print(
        f"event → receiver at {achieved:.0f}/s    p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  "
        f"({got}/{count} delivered; ratio p50 {p50 / b50:.0f}× the baseline)"
    )
    print(
        f"  of which request → delivery written  p50 {w50:7.1f} ms  p99 {w99:7.1f} ms  "
        f"(the last 500: relay, broker, consumer)"
    )


if __name__ == "__main__":
    main()
