"""The agent's workspace pages against the JSON endpoints behind them, in one run:
p50/p95 server time of ``GET /workspace/`` (the queue page) against ``GET
/api/v1/queue``, and of ``GET /workspace/calls/{id}`` (the call page) against ``GET
/api/v1/calls/{id}``, with 100,000 customers and 10,000 open calls (40 agents),
each call with an earlier completed call of its customer. In-process (Flask's test
client on the WSGI app, a migrated SQLite file), so it measures the service's own
time, not the network.

    python -m bench.workspace [--customers 100000] [--calls 10000] [--requests 300]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from services.calls import config
from services.calls.app import create_app
from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.plans.tables import CallPlan
from shared import migrations
from shared.auth import issue_token
from shared.config import DEV_SECRET

AGENTS = 40
CHECKLIST = [
    {"id": "budget", "question": "Budget?", "answer_type": "number", "required": True},
    {"id": "renewing", "question": "Renewing?", "answer_type": "yes_no", "required": True},
]
ADDRESS = {"line1": "12 Nathan Road", "district": "Yau Tsim Mong", "country": "HK"}


def build(path: Path, customers: int, calls: int):
    url = f"sqlite:///{path}"
    migrations.upgrade(url, config.MIGRATIONS)
    app = create_app({"DATABASE_URL": url, "DEV_MODE": "1"})
    now = datetime.now(UTC)
    with app.extensions["rapport"].uow() as work:
        work.session.execute(
            insert(Customer),
            [
                {
                    "customer_id": f"c{i:07d}",
                    "name": f"Customer {i}",
                    "phone": "+85291234567",
                    "segment": "smb",
                    "preferred_language": "zh-HK",
                    "lifecycle_status": "active",
                    "updated_at": now,
                    "gaps": ["email"],
                    "address": ADDRESS,
                    "email": None,
                    "relationship_score": 0.5,
                    "satisfaction_trend": 0.1,
                }
                for i in range(customers)
            ],
        )
        work.session.add(
            CallPlan(
                id="plan-1",
                name="visits",
                segment="smb",
                channel="visit",
                rrule="FREQ=DAILY",
                timezone="Asia/Hong_Kong",
                priority=3,
                starts_at=now,
                checklist=CHECKLIST,
                created_at=now,
            )
        )
        work.session.flush()
        rows = []
        for i in range(calls):
            customer = f"c{(i * 7) % customers:07d}"
            base = {
                "plan_id": "plan-1",
                "customer_id": customer,
                "channel": "visit",
                "priority": i % 5,
                "created_at": now,
                "kind": "planned",
                "attempt": 0,
                "for_role": "agent",
                "purpose": "service",
                "agent_id": f"a{i % AGENTS}",
            }
            rows.append(
                {
                    **base,
                    "id": f"open-{i}",
                    "status": "scheduled",
                    "due_at": now + timedelta(minutes=i),
                }
            )
            rows.append(
                {
                    **base,
                    "id": f"done-{i}",
                    "status": "completed",
                    "due_at": now - timedelta(days=30, minutes=i),
                    "outcome": "reached",
                    "notes": "Asked about the renewal",
                    "satisfaction": 4,
                    "propensity": 50,
                    "completed_at": now - timedelta(days=30),
                }
            )
        work.session.execute(insert(Call), rows)
    return app


def timed(client, url: str, headers: dict | None = None) -> float:
    started = time.perf_counter()
    response = client.get(url, headers=headers or {})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1000, cuts[94] * 1000


def measure(app, calls: int, requests: int) -> dict:
    rng = random.Random(7)
    page, api = app.test_client(), app.test_client()
    results = {"queue page": [], "queue JSON": [], "call page": [], "call JSON": []}
    for _ in range(requests):
        agent = f"a{rng.randrange(AGENTS)}"
        token = issue_token(DEV_SECRET, agent, "agent")
        bearer = {"Authorization": f"Bearer {token}"}
        page.get(f"/workspace/?token={token}")  # the cookie, as a browser holds it
        results["queue page"].append(timed(page, "/workspace/"))
        results["queue JSON"].append(timed(api, "/api/v1/queue", bearer))
        call = f"open-{rng.randrange(calls // AGENTS) * AGENTS + int(agent[1:])}"
        results["call page"].append(timed(page, f"/workspace/calls/{call}"))
        results["call JSON"].append(timed(api, f"/api/v1/calls/{call}", bearer))
    return {name: percentiles(samples) for name, samples in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        app = build(Path(tmp) / "calls.db", args.customers, args.calls)
        print(
            f"seeded {args.customers:,} customers, {args.calls:,} open calls "
            f"in {time.perf_counter() - started:.1f}s"
        )
        figures = measure(app, args.calls, args.requests)
    for name, (p50, p95) in figures.items():
        print(f"{name:11s} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms")
    for kind in ("queue", "call"):
        ratio = figures[f"{kind} page"][1] / figures[f"{kind} JSON"][1]
        print(f"{kind} page / JSON p95 ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
