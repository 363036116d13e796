"""The calling runs itself: the whole system, its clock moved a week at a time through
thirteen weeks (``RAPPORT_CLOCK_OFFSET_FILE``; nothing waits for real days), with no
one calling ``/schedule`` or ``/assign``. Every targeted customer always has calls a
horizon ahead, every call is assigned by the system itself, the agents record their
outcomes, coverage stays compliant, and retention erasure runs by itself. On
PostgreSQL with two replicas of every consumer and relay, the periodic work still
happens once: no call twice, no call assigned twice."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.calls.people import continuous_assignment as continuous
from shared import clock
from shared.testing import wait_for
from tests.e2e.conftest import start_system
from tests.e2e.test_system import register

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

HK = ZoneInfo("Asia/Hong_Kong")
WEEKS, HORIZON_DAYS, RETENTION_DAYS = 13, 30, 60
AGENTS = ("amy", "ben")
JOBS = ("extend-schedules", "assign-calls", "missed-calls")


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(("sqlite", 1), id="sqlite"),
        pytest.param(("postgres", 2), id="postgres-two-replicas", marks=pytest.mark.postgres),
    ],
)
def autopilot(request, amqp_url, tmp_path_factory):
    database, replicas = request.param
    offset_file = tmp_path_factory.mktemp("clock") / "offset"
    clock.set_offset(offset_file, first_monday_offset())
    env = {
        "RAPPORT_CLOCK_OFFSET_FILE": str(offset_file),
        "RAPPORT_PERIODIC_TICK_SECONDS": "0.2",
        "CUSTOMER_RETENTION_DAYS": str(RETENTION_DAYS),
    }
    for client in start_system(request, amqp_url, tmp_path_factory, env, replicas, database):
        client.offset_file = offset_file
        yield client


def first_monday_offset() -> timedelta:
    """From now to the next Monday, 09:00 in Hong Kong: an hour before that day's calls."""
    now = datetime.now(UTC).astimezone(HK)
    monday = (now + timedelta(days=7 - now.weekday())).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    return monday - now


def simulated_now(client) -> datetime:
    offset = float(client.offset_file.read_text())
    return datetime.now(UTC) + timedelta(seconds=offset)


def set_clock(client, moment: datetime) -> datetime:
    """Every process of the system at ``moment`` (and on from there)."""
    clock.set_offset(client.offset_file, moment - datetime.now(UTC))
    return moment


def jobs_ran_since(client, moment: datetime, names=JOBS) -> bool:
    jobs = {job["name"]: job for job in client.get("calls", "/periodic-jobs").json()}
    return all(
        jobs[name]["last_started_at"] is not None
        and datetime.fromisoformat(jobs[name]["last_started_at"]) >= moment
        and jobs[name]["last_status"] == "ok"
        and not jobs[name]["running"]
        for name in names
    )


def calls_of(client, customer_id: str) -> list[dict]:
    calls, cursor = [], None
    while True:
        page = client.get(
            "calls",
            "/calls",
            params={
                "customer_id": customer_id,
                "limit": 500,
                **({"cursor": cursor} if cursor else {}),
            },
        ).json()
        calls += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return calls


def add_agents(client, seg: str) -> None:
    for agent in AGENTS:
        r = client.post(
            "calls",
            "/agents",
            json={
                "id": f"{agent}-{seg}",
                "name": agent.title(),
                "kind": "staff",
                "daily_capacity": 50,
                "languages": ["zh-HK", "en"],
                "segments": [seg],
                "channels": ["phone"],
                "trainings": [{"name": "pdpo", "expires_on": "2099-12-31"}],
                "rate_per_minute": "2.00",
            },
        )
        assert r.status_code == 201, r.text


def test_ninety_days_of_calling_run_by_themselves(autopilot):
    client, seg = autopilot, f"auto-{uuid.uuid4().hex[:6]}"
    start = simulated_now(client)
    customers = [
        register(client, seg, phone=f"6123 {n:04d}", name=f"Chan {n}")["id"] for n in range(5)
    ]
    dormant = register(client, f"{seg}-x", phone="6999 0000", name="Ho Dormant")["id"]
    add_agents(client, seg)
    r = client.post(
        "calls",
        "/call-plans",
        json={
            "name": f"weekly {seg}",
            "segment": seg,
            "channel": "phone",
            "rrule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0",
            "allow_holidays": True,
            "horizon_days": HORIZON_DAYS,
            "starts_at": start.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    completed = Counter()
    for week in range(WEEKS):
        # Monday 09:20: the schedules are extended (every quarter of an hour) and the
        # calls due within the lead time assigned; at 10:30 the agents call.
        now = set_clock(client, start + timedelta(days=7 * week, minutes=20))
        # A pass that failed (a busy database on a loaded machine) runs again within a
        # minute, and assignment may have run just before the extension: room for both.
        wait_for(
            lambda: jobs_ran_since(client, now),
            150,
            interval=0.2,
            message=f"week {week}: the periodic jobs",
        )

        def ahead_and_assigned():
            calls = {c: calls_of(client, c) for c in customers}
            for customer_calls in calls.values():
                open_ = [c for c in customer_calls if c["status"] == "scheduled"]
                ahead = [c for c in open_ if datetime.fromisoformat(c["due_at"]) > now]
                last = max((datetime.fromisoformat(c["due_at"]) for c in ahead), default=None)
                assert last is not None and last >= now + timedelta(days=HORIZON_DAYS - 7), (
                    f"not a horizon of calls ahead (yet): the last is due {last}"
                )
                soon = [
                    c
                    for c in open_
                    if datetime.fromisoformat(c["due_at"]) <= now + timedelta(hours=72)
                ]
                assert all(c["agent_id"] for c in soon), (
                    f"not assigned (yet): {[(c['id'], c['due_at']) for c in soon]}"
                )
            return calls

        calls = wait_for(
            ahead_and_assigned,
            150,
            interval=0.3,
            message=f"week {week}: calls a horizon ahead, assigned",
        )
        now = set_clock(client, start + timedelta(days=7 * week, minutes=90))
        for customer_calls in calls.values():
            [today] = [
                c
                for c in customer_calls
                if c["status"] == "scheduled" and datetime.fromisoformat(c["due_at"]) <= now
            ]
            agent = client.headers("agent", subject=today["agent_id"])
            r = client.call(
                "POST",
                "calls",
                f"/calls/{today['id']}/outcome",
                headers=agent,
                json={
                    "outcome": "reached",
                    "satisfaction": 4,
                    "propensity": 60,
                    "duration_seconds": 180,
                    "opt_out_notice_given": True,
                },
            )
            assert r.status_code == 201, r.text
            completed[today["customer_id"]] += 1
        coverage = client.get("calls", "/coverage", params={"segment": seg, "limit": 500})
        rows = coverage.json()["items"]
        assert len(rows) == len(customers) and all(row["compliant"] for row in rows), rows

    assert completed == dict.fromkeys(customers, WEEKS)
    # Nobody called /schedule or /assign: every call came from the jobs, each slot once,
    # each assigned by one decision of the system's.
    calls = [c for customer in customers for c in calls_of(client, customer)]
    slots = Counter((c["customer_id"], c["due_at"]) for c in calls if c["status"] != "cancelled")
    assert max(slots.values()) == 1
    for call in [c for c in calls if c["status"] == "completed"]:
        decisions = client.get("calls", f"/calls/{call['id']}/assignments").json()["items"]
        assert len(decisions) == 1 and decisions[0]["decided_by"] == continuous.DECIDED_BY, (
            decisions
        )
    # The dormant customer, never contacted, was erased by the retention job alone.
    wait_for(
        lambda: client.get("customer", f"/customers/{dormant}").json()["name"] == "[erased]",
        30,
        interval=0.3,
        message="retention erasure",
    )
    for customer in customers:  # called every week: kept
        assert client.get("customer", f"/customers/{customer}").json()["name"] != "[erased]"
    wait_for(
        lambda: (
            client.get(
                "reporting", "/reports/coverage", params={"segment": seg}, role="analyst"
            ).json()["overdue_customers"]
            == 0
        ),
        30,
        interval=0.3,
        message="reporting's coverage: no one overdue",
    )
