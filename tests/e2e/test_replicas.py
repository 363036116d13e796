"""Two replicas of every consumer and relay give the end state of one.

The same deterministic workload runs through a system with one replica of each
consumer and relay and through one with two, both on PostgreSQL against the one
broker: many events for the same few customers at once (call outcomes, sales,
consent changes, profile edits), posted from several threads. Each run's end
state, read back through the APIs (profiles, timelines, consents, the sales and
reporting P&Ls per customer, reporting's activity totals), must equal what the
test fed, and the two runs must agree with each other: no counter increment lost
to two replicas updating one customer at once, no effect applied twice. Every
consumer replica's metrics must show it took events, or the run proves nothing.
"""

from __future__ import annotations

import random
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pika
import pytest
import requests

from deploy.launcher import SERVICES
from shared.messaging import topology
from shared.testing import wait_for
from tests.e2e.conftest import start_system
from tests.e2e.test_system import BUSINESS_HOURS, ensure_segment

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.postgres]

CUSTOMERS, CALLS, SALES, EDITS, CONSENTS = 6, 20, 5, 3, 4
# Only a reached call carries satisfaction and propensity.
OUTCOMES = ("reached", "reached", "reached", "interested", "not_interested")


def plan(seed: int = 18) -> list[dict]:
    """What each customer gets, the same in every run: its calls' outcomes (each
    with its own completion time, posted out of time order), its sales, its name
    changes and its consent changes."""
    rng = random.Random(seed)
    customers = []
    for i in range(CUSTOMERS):
        minutes = rng.sample(range(1, 120), CALLS)  # minutes before the run started
        outcomes = [rng.choice(OUTCOMES) for _ in minutes]
        # The newest call is a reached one: its propensity is the profile's last
        # value whatever order the calls are applied in.
        outcomes[minutes.index(min(minutes))] = "reached"
        customers.append(
            {
                "name": f"Replica Customer {i}",
                # one satisfaction per customer: its running average does not depend on
                # the order replicas apply the calls in, only on their number
                "satisfaction": 1 + i % 5,
                "outcomes": [
                    {
                        "outcome": outcome,
                        "propensity": rng.randrange(101),
                        "duration_seconds": rng.randrange(30, 900),
                        "ago": ago,
                    }
                    for outcome, ago in zip(outcomes, minutes)
                ],
                "sales": [rng.randrange(1, 9) for _ in range(SALES)],  # quantities
                "names": [f"Replica Customer {i} v{k}" for k in range(1, EDITS + 1)],
                "consents": [
                    "withdrawn" if k % 2 == 0 else "granted"
                    for k in range(CONSENTS - rng.randrange(2))
                ],
            }
        )
    return customers


def run_workload(client, customers: list[dict], amqp_url: str) -> dict:
    """Feed ``customers`` to a running system; return its end state per customer
    (by index) and the totals, once every consumer has caught up."""
    seg = f"rep-{uuid.uuid4().hex[:8]}"
    ensure_segment(client, seg)
    sku = f"REP-{uuid.uuid4().hex[:6]}"
    r = client.post(
        "sales",
        "/products",
        json={
            "sku": sku,
            "name": "Replica tea",
            "price": "19.99",
            "unit_cost": "7.25",
            "effective_from": "2025-01-01T00:00:00+00:00",
        },
    )
    assert r.status_code == 201, r.text
    ids = []
    for i, c in enumerate(customers):
        r = client.post(
            "customer",
            "/customers",
            json={"name": c["name"], "phone": f"+8529{3000000 + i:07d}", "segment": seg},
        )
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    calls = _scheduled(client, seg, ids)

    started = datetime.now(UTC).replace(microsecond=0)
    bulk: list[dict] = []  # outcomes of every customer, interleaved
    for i, c in enumerate(customers):
        for call, o in zip(calls[ids[i]], c["outcomes"]):
            reached = o["outcome"] == "reached"
            bulk.append(
                {
                    "call_id": call,
                    "outcome": o["outcome"],
                    "satisfaction": c["satisfaction"] if reached else None,
                    "propensity": o["propensity"] if reached else None,
                    "duration_seconds": o["duration_seconds"],
                    "opt_out_notice_given": True,
                    "completed_at": (started - timedelta(minutes=o["ago"])).isoformat(),
                }
            )
    random.Random(7).shuffle(bulk)
    tasks = [
        lambda chunk=bulk[n : n + 12]: _outcomes(client, chunk) for n in range(0, len(bulk), 12)
    ]
    sold: list[tuple[int, Decimal, Decimal]] = []
    for i, c in enumerate(customers):
        tasks += [
            lambda i=i, q=q: sold.append((i, *_sale(client, ids[i], sku, q))) for q in c["sales"]
        ]
        tasks.append(lambda i=i, c=c: _edits(client, ids[i], c["names"]))
        tasks.append(lambda i=i, c=c: _consents(client, ids[i], c["consents"]))
    random.Random(11).shuffle(tasks)
    with ThreadPoolExecutor(6) as pool:
        for future in [pool.submit(task) for task in tasks]:
            future.result()

    fed = {
        i: {
            "calls": CALLS,
            "sales": SALES,
            "revenue": sum((r for j, r, _ in sold if j == i), Decimal(0)),
            "cost": sum((k for j, _, k in sold if j == i), Decimal(0)),
        }
        for i in range(len(customers))
    }

    def dbg():
        a = all(_caught_up(client, ids[i], fed[i]) for i in fed)
        b = _reporting_caught_up(client, ids, fed)
        return a and b

    _settle(client, dbg, amqp_url)
    return {
        "ids": ids,
        "fed": fed,
        "started": started,
        "state": {i: _end_state(client, ids[i]) for i in fed},
        "sales_pnl": _pnl(client, "sales", "/pnl", ids),
        "reporting_pnl": _pnl(client, "reporting", "/reports/pnl", ids),
        "activity": _activity_totals(client),
        "consumed": _consumed(client),
    }


def _scheduled(client, seg: str, ids: list[str]) -> dict:
    r = client.post(
        "calls",
        "/call-plans",
        json={
            "name": f"plan {seg}",
            "segment": seg,
            "channel": "phone",
            "rrule": BUSINESS_HOURS,
            "starts_at": datetime.now(UTC).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    plan_id = r.json()["id"]

    def enough():
        # The calls service learns of the customers by event: schedule until it has.
        r = client.post("calls", f"/call-plans/{plan_id}/schedule", json={"horizon_days": 5})
        assert r.status_code in (200, 201), r.text
        by_customer = {}
        for cid in ids:
            got = client.get("calls", "/calls", params={"customer_id": cid, "limit": 500})
            by_customer[cid] = [c["id"] for c in got.json()["items"]]
        return by_customer if all(len(v) >= CALLS for v in by_customer.values()) else None

    return wait_for(enough, 30, interval=0.3, message=f"{CALLS} calls for every customer")


def _outcomes(client, chunk: list[dict]) -> None:
    r = client.post("calls", "/calls/outcomes", role="agent", json={"outcomes": chunk})
    assert r.status_code in (200, 201), r.text
    assert r.json()["created"] == len(chunk), r.text


def _sale(client, customer_id: str, sku: str, quantity: int) -> tuple[Decimal, Decimal]:
    r = client.post(
        "sales",
        "/transactions",
        role="agent",
        json={
            "customer_id": customer_id,
            "currency": "HKD",
            "lines": [{"sku": sku, "quantity": str(quantity)}],
        },
    )
    assert r.status_code == 201, r.text
    return Decimal(r.json()["revenue"]), Decimal(r.json()["cost"])


def _edits(client, customer_id: str, names: list[str]) -> None:
    for name in names:  # one after another: the last is the name the profile keeps
        r = client.call(
            "PATCH",
            "customer",
            f"/customers/{customer_id}",
            json={"name": name, "reason": "replica test"},
        )
        assert r.status_code == 200, r.text


def _consents(client, customer_id: str, statuses: list[str]) -> None:
    # E-mail marketing: the phone calls of the plan are not cancelled by a withdrawal.
    for status in statuses:
        r = client.post(
            "customer",
            f"/customers/{customer_id}/consents",
            json={"channel": "email", "purpose": "newsletter", "status": status, "source": "test"},
        )
        assert r.status_code == 201, r.text


def _settle(client, caught_up, amqp_url: str, timeout: float = 180, quiet: float = 5) -> None:
    """Until what was fed shows everywhere, or nothing moves any more (every queue
    of the system empty for ``quiet`` seconds): a lost update
    then fails the comparisons below, saying what differs, rather than a wait."""
    names = topology.Names(client.system.env["RAPPORT_NAMESPACE"])
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = conn.channel()
    deadline, still_since = time.monotonic() + timeout, None
    try:
        while not caught_up() and time.monotonic() < deadline:
            busy = sum(
                channel.queue_declare(names.queue(s), passive=True).method.message_count
                for s in topology.BINDINGS
            )
            if busy:
                still_since = None
            elif still_since is None:
                still_since = time.monotonic()
            elif time.monotonic() - still_since >= quiet:
                return
            time.sleep(0.3)
    finally:
        conn.close()


def _caught_up(client, customer_id: str, fed: dict) -> bool:
    p = client.get("customer", f"/customers/{customer_id}").json()
    return (
        p["calls_completed"] >= fed["calls"]
        and Decimal(str(p["lifetime_revenue"])) >= fed["revenue"]
    )


def _reporting_caught_up(client, ids: list[str], fed: dict) -> bool:
    if _activity_totals(client)["completed"] < sum(f["calls"] for f in fed.values()):
        return False
    pnl = _pnl(client, "reporting", "/reports/pnl", ids)
    return all(Decimal(pnl.get(ids[i], {}).get("revenue", 0)) >= fed[i]["revenue"] for i in fed)


def _end_state(client, customer_id: str) -> dict:
    p = client.get("customer", f"/customers/{customer_id}").json()
    timeline, cursor = [], None
    while True:
        page = client.get(
            "customer",
            f"/customers/{customer_id}/activities",
            params={"limit": 100, **({"cursor": cursor} if cursor else {})},
        ).json()
        timeline += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    consents = client.get("customer", f"/customers/{customer_id}/consents").json()
    history = client.get(
        "customer", f"/customers/{customer_id}/history", params={"limit": 100}
    ).json()["items"]
    return {
        "name": p["name"],
        "version": p["version"],
        "versions": len(history),
        "calls_completed": p["calls_completed"],
        "satisfaction": p["satisfaction"],
        "propensity": p["propensity"],
        "last_contacted_at": p["last_contacted_at"],
        "relationship_score": p["relationship_score"],
        "lifetime_revenue": Decimal(str(p["lifetime_revenue"])),
        "lifetime_margin": Decimal(str(p["lifetime_margin"])),
        "timeline": sorted(
            (a["kind"], a["summary"].get("call_id") or a["summary"]["sale_id"]) for a in timeline
        ),
        "consent": [(c["channel"], c["purpose"], c["status"]) for c in consents["current"]],
        "consent_entries": len(consents["history"]),
    }


def _pnl(client, service: str, path: str, ids: list[str]) -> dict:
    today = datetime.now(UTC).date()
    r = client.get(
        service,
        path,
        role="analyst",
        params={
            "group_by": "customer",
            "currency": "HKD",
            "from": str(today - timedelta(days=2)),
            "to": str(today + timedelta(days=2)),
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    rows = body["groups"] if service == "sales" else body["segments"]
    key = "key" if service == "sales" else "customer"
    return {row[key]: row for row in rows if row[key] in ids}


def _activity_totals(client) -> dict:
    today = datetime.now(UTC).date()
    r = client.get(
        "reporting",
        "/reports/activity",
        role="analyst",
        params={"from": str(today - timedelta(days=2)), "to": str(today + timedelta(days=2))},
    )
    assert r.status_code == 200, r.text
    return r.json()["totals"]


def _consumed(client) -> dict:
    """Events each consumer process took, by process name, from its metrics."""
    counts = {}
    for name, proc in client.system.procs.items():
        if proc.role != "consumer":
            continue
        text = requests.get(f"http://127.0.0.1:{proc.port}/metrics", timeout=10).text
        counts[name] = sum(
            float(v)
            for v in re.findall(
                rf'^rapport_events_consumed_total{{[^}}]*service="{proc.service}"[^}}]*}} (\S+)$',
                text,
                re.M,
            )
        )
    return counts


def expected_state(customers: list[dict], run: dict) -> dict:
    """What each profile must show, from what was fed."""
    expected = {}
    for i, c in enumerate(customers):
        newest = min(c["outcomes"], key=lambda o: o["ago"])
        expected[i] = {
            "name": c["names"][-1],
            "calls_completed": CALLS,
            "satisfaction": c["satisfaction"],
            "propensity": newest["propensity"],
            "last_contacted_at": run["started"] - timedelta(minutes=newest["ago"]),
            "lifetime_revenue": run["fed"][i]["revenue"],
            "lifetime_margin": run["fed"][i]["revenue"] - run["fed"][i]["cost"],
            "consent": [("email", "newsletter", c["consents"][-1])],
            "consent_entries": len(c["consents"]),
            "versions": 1 + EDITS,
        }
    return expected


def comparable(run: dict) -> dict:
    """A run's end state without what differs from run to run (ids, times)."""
    out = {}
    for i, state in run["state"].items():
        cid = run["ids"][i]
        sales, reporting = run["sales_pnl"][cid], run["reporting_pnl"][cid]
        out[i] = {
            **{k: v for k, v in state.items() if k not in ("timeline", "last_contacted_at")},
            "timeline": sorted(kind for kind, _ in state["timeline"]),
            "sales_pnl": {k: sales[k] for k in ("revenue", "cost_of_goods", "calls")},
            "reporting_pnl": {k: v for k, v in reporting.items() if k != "customer"},
        }
    return out


def test_two_replicas_end_in_the_state_of_one(request, amqp_url, tmp_path_factory):
    customers = plan()
    runs = {}
    for replicas in (1, 2):
        for client in start_system(
            request, amqp_url, tmp_path_factory, replicas=replicas, database="postgres"
        ):
            runs[replicas] = run_workload(client, customers, amqp_url)

    for replicas, run in runs.items():
        expected = expected_state(customers, run)
        for i, state in run["state"].items():
            want = expected[i]
            got = {k: state[k] for k in want}
            # None when no call reached the profile: the comparison then says so.
            got["last_contacted_at"] = state["last_contacted_at"] and datetime.fromisoformat(
                state["last_contacted_at"]
            )
            assert got == want, f"{replicas} replica(s), customer {i}"
            # one timeline entry per call and per sale: nothing lost, nothing doubled
            assert len(state["timeline"]) == CALLS + SALES
            assert len(set(state["timeline"])) == CALLS + SALES
            cid = run["ids"][i]
            assert Decimal(run["sales_pnl"][cid]["revenue"]) == run["fed"][i]["revenue"]
            assert Decimal(run["sales_pnl"][cid]["cost_of_goods"]) == run["fed"][i]["cost"]
            assert run["sales_pnl"][cid]["calls"] == CALLS
            assert Decimal(run["reporting_pnl"][cid]["revenue"]) == run["fed"][i]["revenue"]
        assert run["activity"]["completed"] == CUSTOMERS * CALLS
    assert comparable(runs[1]) == comparable(runs[2])
    assert runs[1]["activity"] == runs[2]["activity"]

    # Every replica took part, or the second run was a one-replica run in disguise.
    consumed = runs[2]["consumed"]
    assert set(consumed) == {f"{s}-consumer{suffix}" for s in SERVICES for suffix in ("", "-2")}
    assert all(count > 0 for count in consumed.values()), consumed
