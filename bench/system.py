"""Rapport end to end: outcomes recorded through the calls API until each is
reflected in the customer profile and in the reporting read model."""

from __future__ import annotations

import json
import os
import secrets
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pika
import requests

from deploy.launcher import SERVICES, System, port_settings
from shared.auth import issue_token
from shared.messaging import topology

OUTCOME = {"outcome": "reached", "satisfaction": 4, "propensity": 60, "duration_seconds": 120}


class Bench:
    def __init__(
        self,
        amqp_url: str,
        workdir: Path,
        web_workers: int = 2,
        settings: dict | None = None,
        replicas: int = 1,
    ):
        """``replicas`` of each consumer and relay: PostgreSQL only (databases
        given in ``settings`` as ``<SERVICE>_DATABASE_URL``)."""
        self.secret = secrets.token_hex(32)
        self.namespace = f"bench-{uuid.uuid4().hex[:8]}"
        self.amqp_url = amqp_url
        env = {
            "PATH": "/usr/bin:/bin",
            "RAPPORT_AUTH_SECRET": self.secret,
            "RAPPORT_AMQP_URL": amqp_url,
            "RAPPORT_NAMESPACE": self.namespace,
            "RAPPORT_DATA_DIR": str(workdir / "data"),
            "RAPPORT_LOG_LEVEL": "WARNING",
            "RAPPORT_WEB_WORKERS": str(web_workers),
        }
        env.update(port_settings(SERVICES))
        # A process's CPU priority can be tried from the command line, e.g.
        # REPORTING_CONSUMER_NICE=0 python -m bench.calls …
        # And the API's request threads (deploy/gunicorn_conf.py), e.g.
        # RAPPORT_WEB_THREADS=4 python -m bench.run …
        env.update(
            {
                k: v
                for k, v in os.environ.items()
                if k.endswith("_NICE") or k == "RAPPORT_WEB_THREADS"
            }
        )
        env.update(settings or {})
        self.system = System(env, log_dir=workdir / "log", replicas=replicas)
        self.headers = {"Authorization": f"Bearer {issue_token(self.secret, 'bench', 'admin')}"}
        self.local = threading.local()
        self.registered = 0

    # -- plumbing ---------------------------------------------------------
    def __enter__(self):
        self.system.start()
        self.system.wait_ready(120)
        return self

    def __exit__(self, *exc):
        self.system.stop()
        conn = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        try:
            topology.delete(conn.channel(), topology.Names(self.namespace))
        finally:
            conn.close()

    def http(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers.update(self.headers)
        return self.local.session

    def url(self, service: str, path: str) -> str:
        return f"{self.system.api_url(service)}/api/v1{path}"

    def post(self, service, path, body, headers=None):
        r = self.http().post(self.url(service, path), json=body, timeout=30, headers=headers)
        if r.status_code >= 400:
            raise RuntimeError(f"{path}: {r.status_code} {r.text}")
        return r.json()

    def get(self, service, path, **params):
        r = self.http().get(self.url(service, path), params=params, timeout=30)
        r.raise_for_status()
        return r.json()

    # -- set-up -----------------------------------------------------------
    def customers(self, n: int, segment: str) -> list[str]:
        self.post("customer", "/segments", {"code": segment, "name": segment})
        first, self.registered = self.registered, self.registered + n

        def one(i):  # every phone distinct over the run, or registration answers 409
            return self.post(
                "customer",
                "/customers",
                {"name": f"Bench {i}", "phone": f"+8529{1000000 + i:07d}", "segment": segment},
            )["id"]

        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(one, range(first, first + n)))

    def calls(self, segment: str, customer_ids: list[str], rrule: str, horizon: int) -> dict:
        plan = self.post(
            "calls",
            "/call-plans",
            {
                "name": segment,
                "segment": segment,
                "channel": "phone",
                "rrule": rrule,
                "starts_at": datetime.now(UTC).isoformat(),
            },
        )
        wanted = set(customer_ids)
        deadline = time.monotonic() + 120
        while True:  # the calls service learns of customers by event
            self.post("calls", f"/call-plans/{plan['id']}/schedule", {"horizon_days": horizon})
            by_customer = self._calls_of_plan(plan["id"])
            if wanted <= set(by_customer) or time.monotonic() > deadline:
                return by_customer
            time.sleep(0.5)

    def _calls_of_plan(self, plan_id: str) -> dict:
        by_customer, cursor = {}, None
        while True:
            page = self.get(
                "calls",
                "/calls",
                plan_id=plan_id,
                limit=500,
                **({"cursor": cursor} if cursor else {}),
            )
            for call in page["items"]:
                by_customer.setdefault(call["customer_id"], []).append(call["id"])
            cursor = page["next_cursor"]
            if not cursor:
                return by_customer

    def record(self, call_id: str, person: str | None = None) -> None:
        """Record one outcome: as the bench's one token, or as ``person``."""
        self.post("calls", f"/calls/{call_id}/outcome", OUTCOME, self._as(person))

    def _as(self, person: str | None) -> dict | None:
        """The headers of a request made as ``person`` (a manager); None: the bench's."""
        if person is None:
            return None
        return {"Authorization": f"Bearer {issue_token(self.secret, person, 'manager')}"}

    def record_many(self, call_ids: list[str], person: str | None = None) -> None:
        """Record ``call_ids`` in one request: as the bench's one token (every
        outcome "now"), or as ``person``, a manager whose calls of the request are
        spread over the working day before now, 150 s apart, as a day's upload of
        one person's calls would be (no two overlap, fewer than 30 in any hour)."""
        items = [{"call_id": c, **OUTCOME} for c in call_ids]
        headers = self._as(person)
        if person is not None:
            now = datetime.now(UTC)
            for i, item in enumerate(items):
                item["completed_at"] = (now - timedelta(seconds=150 * (i + 1))).isoformat()
        answer = self.post("calls", "/calls/outcomes", {"outcomes": items}, headers)
        if answer["created"] != len(call_ids):
            raise RuntimeError(f"bulk outcomes refused: {answer['results'][:3]}")

    def settle(self, quiet: float = 1.0, timeout: float = 300) -> None:
        """Wait until every service's queue has stayed empty for ``quiet`` seconds,
        so that set-up work (scheduling's events) is not measured with the rest."""
        import pika

        from shared.messaging.topology import BINDINGS, Names

        names = Names(self.namespace)
        conn = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
        channel = conn.channel()
        deadline, empty_since = time.monotonic() + timeout, None
        try:
            while time.monotonic() < deadline:
                depth = sum(
                    channel.queue_declare(names.queue(s), passive=True).method.message_count
                    for s in BINDINGS
                )
                if depth:
                    empty_since = None
                elif empty_since is None:
                    empty_since = time.monotonic()
                elif time.monotonic() - empty_since >= quiet:
                    return
                time.sleep(0.1)
            raise RuntimeError("the queues did not drain")
        finally:
            conn.close()

    def completed_in_profile(self, customer_id: str) -> int:
        return self.get("customer", f"/customers/{customer_id}")["calls_completed"]

    def completed_in_reporting(self) -> int:
        today = date.today()
        report = self.get(
            "reporting",
            "/reports/activity",
            **{"from": str(today - timedelta(days=3)), "to": str(today + timedelta(days=3))},
        )
        return report["totals"]["completed"]


def throughput(
    bench: Bench,
    outcomes: int,
    customers: int,
    per_request: int = 1,
    threads: int = 4,
    on_start=None,
    people: bool = False,
) -> float:
    """Outcomes per second, from the first POST until every one shows in the
    customer profiles and in reporting's read model; ``per_request`` outcomes in
    each POST (1: the single-outcome endpoint, more: the bulk endpoint).
    ``on_start`` is called once the set-up (customers, the plan, their events) has
    settled, just before the clock starts. ``people`` (bulk only): each request is
    another person's day of calls (``Bench.record_many``), rather than every outcome
    the bench's one token's at the same moment, which the quality rules flag twice
    each (overlapping, and more than 30 an hour)."""
    segment = f"tp-{uuid.uuid4().hex[:6]}"
    ids = bench.customers(customers, segment)
    per_customer = -(-outcomes // customers)
    calls = bench.calls(
        segment,
        ids,
        "FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16,17;BYMINUTE=0",
        per_customer // 9 + 2,
    )
    work = [c for cid in ids for c in calls[cid][:per_customer]][:outcomes]
    assert len(work) == outcomes, f"only {len(work)} calls scheduled"
    bench.settle()
    base = bench.completed_in_reporting()
    if on_start is not None:
        on_start()
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        if per_request == 1:
            list(pool.map(bench.record, work))
        else:
            chunks = [work[i : i + per_request] for i in range(0, len(work), per_request)]
            if people:
                run = uuid.uuid4().hex[:6]
                persons = [f"person-{run}-{i}" for i in range(len(chunks))]
                list(pool.map(bench.record_many, chunks, persons))
            else:
                list(pool.map(bench.record_many, chunks))
    posted = time.perf_counter()
    deadline = time.monotonic() + 300
    # Polling costs the system CPU too: poll every 50 ms, and each profile only
    # until it shows all of its calls.
    while bench.completed_in_reporting() - base < outcomes:
        if time.monotonic() > deadline:
            raise RuntimeError("reporting did not catch up in 300 s")
        time.sleep(0.05)
    owner = {call: cid for cid in ids for call in calls[cid]}
    expected = dict(Counter(owner[call] for call in work))
    while expected:
        expected = {cid: n for cid, n in expected.items() if bench.completed_in_profile(cid) < n}
        if time.monotonic() > deadline:
            raise RuntimeError("profiles did not catch up in 300 s")
    done = time.perf_counter()
    print(
        f"  ({outcomes} outcomes: posted in {posted - started:.1f} s, "
        f"reflected everywhere {done - started:.1f} s after the first POST)",
        flush=True,
    )
    return outcomes / (done - started)


def latency(
    bench: Bench, rate: float, seconds: float, people: bool = False
) -> tuple[float, float, int]:
    """p50 and p99 seconds from sending an outcome's POST to the customer profile
    showing it, with outcomes sent at ``rate`` per second, each to its own customer:
    all as the bench's one token, so that from the second on each is flagged as
    overlapping and past 30 calls an hour; with ``people``, each as a person of its
    own, which raises no flag.

    The moment a profile shows the call is found by polling the customer service's
    own database (what ``GET /customers/{id}`` reads) every 2 ms for all waiting
    profiles in one query: polling through the API at that rate would load the
    system under test and blur the figure by each poll's own round trip. Every
    profile is then checked through the API as well."""
    n = int(rate * seconds)
    segment = f"lat-{uuid.uuid4().hex[:6]}"
    ids = bench.customers(n, segment)
    calls = bench.calls(segment, ids, "FREQ=DAILY;BYHOUR=10;BYMINUTE=0", 2)
    bench.settle()
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    seen: dict[str, float] = {}
    sent_wall: dict[str, float] = {}
    lock, done, watching = threading.Lock(), threading.Event(), threading.Event()
    watcher = threading.Thread(
        target=_watch, args=(bench, sent, seen, lock, done, watching), daemon=True
    )
    watcher.start()
    # The watcher's first poll (its imports, engine and connection: seconds on a
    # loaded machine) comes before the first outcome, not in its latency.
    if not watching.wait(120):
        raise RuntimeError("the watcher did not start")
    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        for i, cid in enumerate(ids):
            time.sleep(max(0.0, start + i / rate - time.perf_counter()))

            def send(cid=cid):
                t = time.perf_counter()
                with lock:
                    sent[cid] = t
                    sent_wall[cid] = time.time()
                bench.record(calls[cid][0], f"agent-{cid}" if people else None)
                answered[cid] = time.perf_counter()

            pool.submit(send)
    done.set()
    watcher.join(120)
    missing = [c for c in ids if bench.completed_in_profile(c) < 1]
    if missing or len(seen) < n:
        raise RuntimeError(f"{len(missing)} profiles never showed their call")
    lat = sorted(seen[c] - sent[c] for c in ids)
    after_answer = sorted(seen[c] - answered[c] for c in ids)
    post = sorted(answered[c] - sent[c] for c in ids)
    print(
        f"  (POST answered p50 {_ms(post, 0.5)}, p99 {_ms(post, 0.99)}; answer -> profile "
        f"p50 {_ms(after_answer, 0.5)}, p99 {_ms(after_answer, 0.99)})",
        flush=True,
    )
    wall_offset = time.time() - time.perf_counter()
    _print_stages(bench, sent_wall, {c: t + wall_offset for c, t in seen.items()})
    return statistics.median(lat), _quantile(lat, 0.99), len(lat)


def _print_stages(bench: Bench, sent: dict[str, float], seen: dict[str, float]) -> None:
    """Where each outcome's time went, from the services' own timestamps: the calls
    API's outbox row (written inside the POST), the relay's ``sent_at`` (the broker
    confirmed it), the customer consumer's inbox row (stamped when the delivery
    window holding the event began) and the watcher seeing the committed profile."""
    from sqlalchemy import create_engine, text

    def rows(service: str, sql: str) -> list:
        engine = create_engine(bench.system.settings[service].database_url)
        try:
            with engine.connect() as db:
                return db.execute(text(sql)).all()
        finally:
            engine.dispose()

    outbox = {
        (json.loads(body) if isinstance(body, (str, bytes)) else body)["payload"]["customer_id"]: (
            event_id,
            created,
            sent_at,
        )
        for event_id, body, created, sent_at in rows(
            "calls",
            (
                "SELECT event_id, body, created_at, sent_at FROM outbox "
                "WHERE event_type = 'call.completed'"
            ),
        )
    }
    handled = dict(
        rows(
            "customer",
            "SELECT event_id, min(processed_at) FROM inbox "
            "WHERE event_type = 'call.completed' GROUP BY event_id",
        )
    )
    stages: dict[str, list[float]] = {
        "API to outbox row": [],
        "outbox row to confirmed": [],
        "confirmed to taken up": [],
        "taken up to seen": [],
    }
    for cid, start in sent.items():
        event_id, created, sent_at = outbox[cid]
        times = [start, _epoch(created), _epoch(sent_at), _epoch(handled[event_id]), seen[cid]]
        for values, a, b in zip(stages.values(), times, times[1:]):
            values.append(b - a)
    print(
        "  ("
        + "; ".join(
            f"{name} p50 {_ms(sorted(v), 0.5)}, p99 {_ms(sorted(v), 0.99)}"
            for name, v in stages.items()
        )
        + ")",
        flush=True,
    )


def _epoch(stored) -> float:
    moment = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _watch(bench: Bench, sent: dict, seen: dict, lock, done, watching) -> None:
    """Poll the customer service's own database (SQLite or PostgreSQL) for the
    profiles that show their call; ``watching`` is set once it can.

    The watcher shares the machine with the system under test, so each poll is
    kept cheap: one statement on the driver's connection in autocommit (its own
    snapshot; in a transaction it was BEGIN, the query and ROLLBACK, three round
    trips on PostgreSQL), its text the same every time, with the waiting ids as one
    parameter (an array, or a JSON list on SQLite) instead of an ``IN`` list that
    SQLAlchemy rendered anew on every poll."""
    from sqlalchemy import create_engine

    engine = create_engine(
        bench.system.settings["customer"].database_url, isolation_level="AUTOCOMMIT"
    )
    if engine.dialect.name == "postgresql":
        sql, as_parameter = (
            "SELECT id FROM customers WHERE calls_completed >= 1 AND id = ANY(%s)",
            list,
        )
    else:
        sql, as_parameter = (
            "SELECT id FROM customers WHERE calls_completed >= 1"
            " AND id IN (SELECT value FROM json_each(?))",
            json.dumps,
        )
    give_up, waiting, taken = None, [], 0
    try:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, (as_parameter([""]),))
            cursor.fetchall()
            watching.set()
            while not done.is_set() or len(seen) < len(sent):
                if done.is_set():
                    give_up = give_up or time.monotonic() + 60
                    if time.monotonic() > give_up:
                        return
                with lock:  # the ids sent since the last poll, in the order sent
                    fresh = list(sent)[taken:] if len(sent) > taken else []
                taken += len(fresh)
                waiting = [c for c in waiting + fresh if c not in seen]
                for chunk in range(0, len(waiting), 500):
                    cursor.execute(sql, (as_parameter(waiting[chunk : chunk + 500]),))
                    found = cursor.fetchall()
                    now = time.perf_counter()
                    for (cid,) in found:
                        seen[cid] = now
                time.sleep(0.002)
        finally:
            connection.close()
    finally:
        engine.dispose()


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _ms(values: list[float], q: float) -> str:
    return f"{_quantile(values, q) * 1000:.0f} ms"
