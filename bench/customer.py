"""Customer service figures, each a ratio against a baseline measured in the same run.

1. Import: 100,000 customers through the import pipeline (parse, validate,
   normalise phones and e-mails, duplicate checks, profile versions and events)
   vs a raw bulk insert of the same rows into the same migrated schema, on SQLite
   and, given ``--postgres ADMIN_URL``, on PostgreSQL too (databases created under
   it and dropped after).
2. ``GET /customers/{id}`` requests per second through gunicorn (the service's
   own configuration) vs a bare Flask endpoint under the same configuration, at
   10,000 and at 1,000,000 customers on file. Beside them, for reference only, the
   bare endpoint with the same SQLite read (``bench.bare_db_app``): how much of the
   gap a database read alone makes.

    python -m bench.customer [--rows 100000] [--sizes 10000 1000000] [--seconds 30]
                             [--postgres URL] [--workers N]

``--sizes`` with no number skips the GET figures; ``--workers 0`` imports without
worker processes (the default is the importer's own choice).
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from bench import customer_import
from deploy.launcher import free_ports
from services.customer.profiles.matching import name_key
from services.customer.profiles.tables import ContactPoint, Customer
from shared.auth import issue_token

SECRET = "bench-secret-" + "x" * 32


def populate(url: str, n: int) -> list[str]:
    """``n`` customers with a phone each, inserted in bulk (the state, not the path)."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    ids = []
    with engine.begin() as conn:
        for start in range(0, n, 20_000):
            customers, points = [], []
            for i in range(start, min(start + 20_000, n)):
                cid = str(uuid.uuid4())
                ids.append(cid)
                name = f"Customer {i}"
                key = name_key(name)
                phone = f"+8525{i:07d}"
                customers.append(
                    {
                        "id": cid,
                        "kind": "person",
                        "name": name,
                        "name_key": key,
                        "name_rkey": key[::-1],
                        "phone": phone,
                        "email": None,
                        "segment": "smb",
                        "lifecycle_status": "active",
                        "tags": [],
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                        "calls_completed": 3,
                        "do_not_call": False,
                        "source": "import",
                        "lifetime_revenue": 0,
                        "lifetime_margin": 0,
                        "satisfaction": 4,
                        "propensity": 50,
                    }
                )
                points.append(
                    {
                        "id": str(uuid.uuid4()),
                        "customer_id": cid,
                        "kind": "phone",
                        "value": phone,
                        "do_not_contact": False,
                        "status": "valid",
                    }
                )
            conn.execute(insert(Customer.__table__), customers)
            conn.execute(insert(ContactPoint.__table__), points)
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return ids


def serve(app: str, url: str, folder: Path) -> tuple[subprocess.Popen, int]:
    [port] = free_ports(1)
    env = {
        **os.environ,
        "RAPPORT_SERVICE": "customer",
        "CUSTOMER_DATABASE_URL": url,
        "RAPPORT_AUTH_SECRET": SECRET,
        "RAPPORT_BIND": f"127.0.0.1:{port}",
        "RAPPORT_DATA_DIR": str(folder),
        "RAPPORT_LOG_LEVEL": "WARNING",
        "PROMETHEUS_MULTIPROC_DIR": str(folder / f"prom-{port}"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:deploy.gunicorn_conf", app],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{app} did not start")


CONNECTIONS = 8
ROUNDS = 10


def _client(port: int, ids: list[str], seconds: float, token: str, out) -> None:
    # Each client takes turns over several kept-alive connections: gunicorn keeps a
    # connection on the worker that accepted it, and four connections alone often
    # land three or four on one worker, which then measures one core, not two.
    conns = [http.client.HTTPConnection("127.0.0.1", port) for _ in range(CONNECTIONS)]
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random()
    done, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        conn = conns[done % CONNECTIONS]
        conn.request("GET", f"/api/v1/customers/{rng.choice(ids)}", headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET answered {response.status}")
        done += 1
    out.put(done)


def load(port: int, ids: list[str], seconds: float, clients: int = 4) -> float:
    token = issue_token(SECRET, "bench", "manager")
    sample = random.Random(3).sample(ids, min(len(ids), 5000))
    out = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_client, args=(port, sample, seconds, token, out))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    return total / seconds


def reads(folder: Path, n: int, seconds: float, rounds: int = ROUNDS) -> tuple[float, float, float]:
    """Requests per second of the bare endpoint, of the bare endpoint with the same
    database read (``bench.bare_db_app``) and of Rapport's, each served by its own
    gunicorn, measured in turns (``rounds`` of ``seconds / rounds`` each): the
    machine's speed drifts by a fifth over a minute, and one long turn each had the
    ratio swing with it. The servers run side by side; the idle ones sleep."""
    url = customer_import.migrated(folder, f"read-{n}.db")
    ids = populate(url, n)
    servers = [
        serve(app, url, folder)
        for app in (
            "bench.bare_app:app",
            "bench.bare_db_app:app",
            "services.customer.app:create_app()",
        )
    ]
    try:
        for _, port in servers:  # warm up
            load(port, ids, 2)
        rates = [0.0] * len(servers)
        for _ in range(rounds):
            for i, (_, port) in enumerate(servers):
                rates[i] += load(port, ids, seconds / rounds) / rounds
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait()
    baseline, with_read, rapport = rates
    return baseline, with_read, rapport


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 1_000_000])
    parser.add_argument(
        "--seconds", type=float, default=30, help="each server's measured time, in ten turns"
    )
    parser.add_argument("--postgres", help="an admin URL: also measure the import there")
    parser.add_argument("--workers", type=int, help="the import's worker processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        path = folder / "customers.csv"
        customer_import.write_csv(path, args.rows)
        customer_import.imports(folder, path, args.rows, args.postgres, args.workers)
        results = {}
        for n in args.sizes:
            baseline, with_read, rapport = reads(folder, n, args.seconds)
            results[n] = rapport
            print(
                f"GET at {n:>9,} customers: bare Flask {baseline:7.0f}/s, "
                f"Rapport {rapport:7.0f}/s, ratio {rapport / baseline:.3f} (target >= 0.75)",
                flush=True,
            )
            print(
                f"  (bare Flask with the same SQLite read {with_read:7.0f}/s, "
                f"{with_read / baseline:.3f} of bare; Rapport {rapport / with_read:.3f} of it)",
                flush=True,
            )
        if len(results) > 1:
            small, large = results[min(results)], results[max(results)]
            print(
                f"GET slowdown {max(results):,} vs {min(results):,}: "
                f"{small / large:.2f}x (target <= 1.5)"
            )


if __name__ == "__main__":
    main()
