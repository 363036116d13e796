"""Coverage means one thing, end to end through the broker: the calls service's
``/coverage``, reporting's ``/reports/coverage`` and ``/reports/activity`` give the
figures this test computes on its own, by the rules of docs/calls.md ("Coverage:
the one definition"), from the calls it planned and the outcomes it recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.testing import wait_for
from tests.e2e.test_system import register, segment

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

HK = ZoneInfo("Asia/Hong_Kong")
WEEKLY, POLICY_DAYS = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0", 7
# customer -> (days ago its first call was completed, outcome); None: not called yet
STORIES = {
    "lapsed": (20, "reached"),
    "recent": (3, "interested"),
    "unanswered": (10, "no_answer"),
    "waiting": None,
}


def local(moment: datetime) -> date:
    return moment.astimezone(HK).date()


def expected_coverage(calls: dict, done: dict, now: datetime) -> dict:
    """customer -> time due by, computed from what the test fed."""
    out = {}
    for name, customer_calls in calls.items():
        contacts = [at for at, outcome in done.get(name, []) if outcome != "no_answer"]
        first = min(datetime.fromisoformat(c["due_at"]) for c in customer_calls)
        out[name] = max(contacts) + timedelta(days=POLICY_DAYS) if contacts else first
    return out


def expected_activity(calls: dict, done: dict, start: date, end: date) -> dict:
    due = {
        c["id"]: local(datetime.fromisoformat(c["due_at"]))
        for customer_calls in calls.values()
        for c in customer_calls
    }
    completed = {call_id: local(at) for entries in done.values() for at, _, call_id in entries}
    planned = [cid for cid, day in due.items() if start <= day <= end]
    on_time = [cid for cid in planned if cid in completed and completed[cid] <= due[cid]]
    return {
        "planned": len(planned),
        "on_time": len(on_time),
        "completed": sum(start <= day <= end for day in completed.values()),
        "adherence": round(len(on_time) / len(planned), 4) if planned else None,
    }


def test_coverage_and_adherence_equal_an_independent_computation(running_system):
    client, seg = running_system, segment()
    customers = {
        name: register(client, seg, phone=f"6456 {n:04d}", name=f"Chan {name}")["id"]
        for n, name in enumerate(STORIES)
    }
    plan = client.post(
        "calls",
        "/call-plans",
        json={
            "name": f"plan {seg}",
            "segment": seg,
            "channel": "phone",
            "rrule": WEEKLY,
            "horizon_days": 21,
            "starts_at": datetime.now(UTC).isoformat(),
        },
    ).json()
    # The plan's own horizon is the one asked for below: a customer the calls service
    # learns of after the plan exists is planned by the plan's horizon, not the request's.

    def planned():
        client.post("calls", f"/call-plans/{plan['id']}/schedule", json={"horizon_days": 21})
        found = {
            name: client.get("calls", "/calls", params={"customer_id": cid, "limit": 500}).json()[
                "items"
            ]
            for name, cid in customers.items()
        }
        return found if all(len(c) == 3 for c in found.values()) else None

    calls = wait_for(planned, 20, interval=0.3, message="three calls for every customer")
    calls = {name: sorted(c, key=lambda c: c["due_at"]) for name, c in calls.items()}
    now = datetime.now(UTC)
    done: dict = {}
    for name, story in STORIES.items():
        if story is None:
            continue
        days, outcome = story
        at, call = now - timedelta(days=days), calls[name][0]
        body = {
            "outcome": outcome,
            "duration_seconds": 60,
            "completed_at": at.isoformat(),
            "opt_out_notice_given": True,
        }
        if outcome == "reached":
            body.update(satisfaction=4, propensity=50)
        r = client.post("calls", f"/calls/{call['id']}/outcome", role="agent", json=body)
        assert r.status_code == 201, r.text
        done.setdefault(name, []).append((at, outcome, call["id"]))

    # An unanswered call is retried: the calls as they stand after the outcomes.
    calls = {
        name: client.get("calls", "/calls", params={"customer_id": cid, "limit": 500}).json()[
            "items"
        ]
        for name, cid in customers.items()
    }
    calls = {
        name: [c for c in found if c["status"] != "cancelled"] for name, found in calls.items()
    }
    due = expected_coverage(calls, {n: [(a, o) for a, o, _ in e] for n, e in done.items()}, now)
    overdue = {name for name, at in due.items() if at < now}
    assert overdue == {"lapsed"}  # the stories cover what they mean to

    rows = {
        r["customer_id"]: r
        for r in client.get("calls", "/coverage", params={"segment": seg}).json()["items"]
    }
    for name, cid in customers.items():
        assert rows[cid]["required_days"] == POLICY_DAYS
        assert datetime.fromisoformat(rows[cid]["due_by"]) == due[name]
        assert rows[cid]["compliant"] is (name not in overdue)

    def report_caught_up():
        body = client.get(
            "reporting", "/reports/coverage", role="analyst", params={"segment": seg}
        ).json()
        return body if body["overdue_customers"] == len(overdue) else None

    body = wait_for(report_caught_up, 20, message="reporting's coverage caught up")
    report_now = datetime.fromisoformat(body["as_of"])
    assert {c["customer_id"]: c["days_overdue"] for c in body["customers"]} == {
        customers[name]: round((report_now - due[name]).total_seconds() / 86400, 1)
        for name in overdue
    }
    [by_segment] = body["by_segment"]
    assert by_segment["compliance"] == round(1 - len(overdue) / len(customers), 4)

    today = local(now)
    for start, end in (
        (today - timedelta(days=30), today + timedelta(days=30)),
        (today - timedelta(days=30), today - timedelta(days=1)),
    ):
        wanted = expected_activity(calls, done, start, end)

        def activity():
            totals = client.get(
                "reporting",
                "/reports/activity",
                role="analyst",
                params={"from": str(start), "to": str(end), "segment": seg},
            ).json()["totals"]
            got = {name: totals[name] for name in wanted}
            return got if got == wanted else None

        wait_for(activity, 20, message=f"activity {start}..{end} equal to {wanted}")
