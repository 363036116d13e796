"""The calls service's business gauges: seeded through the API and the consumer's
handlers, each scraped value equals a count made independently from what the API
shows; the system's clock decides what "today" and "overdue" mean."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.calls.metrics import CallsCollector, reason_kind
from services.calls.people.assignment import HKT, _unassignable
from shared import clock
from shared.metrics import exposition
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    calls_of,
    consent,
    create_plan,
    deliver,
    project,
    register,
    schedule,
)
from tests.conftest import auth

DAILY = "FREQ=DAILY;BYHOUR=10;BYMINUTE=0"
REACHED = {"outcome": "reached", "satisfaction": 4, "propensity": 70, "duration_seconds": 60}


@pytest.fixture
def moved_clock(tmp_path):
    """``move_to(moment)`` sets the system's clock to ``moment``."""
    path = tmp_path / "offset"
    clock.use_offset_file(path)

    def move_to(moment: datetime) -> None:
        clock.set_offset(path, moment - datetime.now(UTC))

    yield move_to
    clock.use_offset_file(None)


def scrape(app) -> dict[str, dict[tuple, float]]:
    """Every sample of a fresh scrape, by name, keyed by its labels (service dropped)."""
    collector = CallsCollector("calls", app.extensions["rapport"].db, 0, 0)
    body, _ = exposition([collector])
    samples: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            if s.labels.get("service") == "calls":
                labels = tuple(sorted((k, v) for k, v in s.labels.items() if k != "service"))
                samples.setdefault(s.name, {})[labels] = s.value
    return samples


def at(when: str) -> datetime:
    return datetime.fromisoformat(when)


def test_calls_due_today_by_segment_channel_and_status_match_the_calls_listed(
    app, client, moved_clock
):
    project(app, "s1", "s2")
    project(app, "v1", segment="vip")
    create_plan(client, rrule=DAILY)
    create_plan(client, segment="vip", channel="email", rrule=DAILY)
    for plan in client.get("/api/v1/call-plans", headers=auth()).json["items"]:
        schedule(client, plan["id"], days=3)
    first = min(at(c["due_at"]) for c in calls_of(client))
    moved_clock(first - timedelta(hours=1))  # 09:00 in Hong Kong on the first calls' day
    today = first.astimezone(HKT).date()
    todays = [c for c in calls_of(client) if at(c["due_at"]).astimezone(HKT).date() == today]
    r = client.post(f"/api/v1/calls/{todays[0]['id']}/outcome", headers=auth("agent"), json=REACHED)
    assert r.status_code == 201, r.json
    segment = {"s1": "smb", "s2": "smb", "v1": "vip"}
    expected = Counter(
        (segment[c["customer_id"]], c["channel"], c["status"])
        for c in calls_of(client)
        if at(c["due_at"]).astimezone(HKT).date() == today
    )
    got = scrape(app)["rapport_calls_due_today_calls"]
    assert {
        (dict(k)["segment"], dict(k)["channel"], dict(k)["status"]): v for k, v in got.items()
    } == expected
    assert expected[("smb", "phone", "completed")] == 1 and sum(expected.values()) == 3


def test_open_calls_no_agent_could_take_are_counted_by_the_main_reason(app, client):
    project(app, "c1", "c2", "c3")
    plan = create_plan(client, rrule=DAILY)
    schedule(client, plan["id"], days=2)
    assign(client, within_days=7)
    add_agent(client, "mailer", channels=["email"])
    first_day = sorted(calls_of(client), key=lambda c: c["due_at"])[:3]
    assign(client, call_ids=[c["id"] for c in first_day])
    open_unassigned = Counter(
        reason_kind(c["unassigned_reason"])
        for c in calls_of(client)
        if c["status"] == "scheduled" and c["agent_id"] is None and c["unassigned_reason"]
    )
    assert open_unassigned == {"channel": 3, "no_active_agent": 3}
    got = scrape(app)["rapport_calls_unassignable_calls"]
    assert {dict(k)["reason"]: v for k, v in got.items()} == open_unassigned


@pytest.mark.parametrize(
    "why, kind",
    [
        (Counter({"language fr": 3, "at capacity": 1}), "language"),
        (Counter({"at capacity": 2}), "at_capacity"),
        (Counter({"training pdpo, fire": 2}), "training"),
        (Counter({"no valid training": 1}), "no_valid_training"),
        (Counter({"certification x": 4, "channel email": 1}), "certification"),
    ],
)
def test_the_reason_label_is_the_kind_of_the_assigners_most_common_reason(why, kind):
    assert reason_kind(_unassignable(why, 5)) == kind
    assert reason_kind(_unassignable(Counter(), 0)) == "no_active_agent"
    assert reason_kind("something new") == "other"


def test_calls_cancelled_for_lack_of_consent_are_counted_by_channel_and_reason(app, client):
    for customer in ("c1", "c2", "c3"):
        register(app, customer)
        consent(app, customer)
    plan = create_plan(client, rrule=DAILY, purpose="insurance")
    schedule(client, plan["id"], days=3)
    consent(app, "c1", status="withdrawn")
    deliver(
        app,
        "customer.opted_out",
        customer_id="c2",
        channel="phone",
        purpose="insurance",
        opted_out_at=datetime.now(UTC),
    )
    start = datetime.now(HKT).replace(hour=0, minute=0, second=0, microsecond=0)
    expected = Counter(
        ("phone", c["cancel_reason"])
        for c in calls_of(client, status="cancelled")
        if at(c["due_at"]) >= start
    )
    assert set(expected) == {("phone", "consent_withdrawn"), ("phone", "opted_out")}
    got = scrape(app)["rapport_calls_consent_refused_calls"]
    assert {(dict(k)["channel"], dict(k)["reason"]): v for k, v in got.items()} == expected


def test_follow_ups_past_their_deadline_are_counted_by_kind(app, client, moved_clock):
    project(app, "c1", "c2")
    plan = create_plan(client, rrule=DAILY)
    schedule(client, plan["id"], days=1)
    for call in calls_of(client):
        r = client.post(
            f"/api/v1/calls/{call['id']}/outcome",
            headers=auth(),
            json={"outcome": "complaint", "duration_seconds": 120},
        )
        assert r.status_code == 201, r.json
    assert "rapport_followups_overdue_calls" not in scrape(app)
    escalations = [c for c in calls_of(client) if c["kind"] == "escalation"]
    r = client.post(
        f"/api/v1/calls/{escalations[0]['id']}/outcome", headers=auth("manager"), json=REACHED
    )
    assert r.status_code == 201, r.json
    moved_clock(datetime.now(UTC) + timedelta(hours=25))
    open_late = [
        c
        for c in calls_of(client)
        if c["kind"] == "escalation"
        and c["status"] == "scheduled"
        and at(c["window_end"]) < clock.now()
    ]
    assert len(open_late) == 1
    got = scrape(app)["rapport_followups_overdue_calls"]
    assert {dict(k)["kind"]: v for k, v in got.items()} == {"escalation": 1}


def test_partner_hours_from_assignment_to_outcome_fill_the_sla_histogram(app, client, moved_clock):
    partner = add_partner(client)
    add_agent(client, "p-agent", kind="partner", partner_id=partner["id"])
    project(app, "c1", "c2")
    plan = create_plan(client, rrule=DAILY)
    schedule(client, plan["id"], days=1)
    start = datetime.now(UTC)
    moved_clock(start)
    assign(client, within_days=7)
    calls = calls_of(client)
    assert {c["partner_id"] for c in calls} == {partner["id"]}
    for call, hours in zip(calls, (5, 30)):
        moved_clock(start + timedelta(hours=hours))
        r = client.post(f"/api/v1/calls/{call['id']}/outcome", headers=auth(), json=REACHED)
        assert r.status_code == 201, r.json
    got = scrape(app)
    buckets = {dict(k)["le"]: v for k, v in got["rapport_partner_sla_hours_bucket"].items()}
    assert (buckets["4.0"], buckets["8.0"], buckets["24.0"], buckets["48.0"], buckets["+Inf"]) == (
        0,
        1,
        1,
        2,
        2,
    )
    [total] = got["rapport_partner_sla_hours_gsum"].values()
    assert 34.9 < total < 35.1


def test_coverage_compliance_by_segment_matches_the_coverage_report(app, client):
    project(app, "fresh", "stale", "never")
    project(app, "v1", "v2", segment="vip")
    create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=10")
    create_plan(client, segment="vip", rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=10")
    for plan in client.get("/api/v1/call-plans", headers=auth()).json["items"]:
        schedule(client, plan["id"], days=7)
    for call in calls_of(client):
        if call["customer_id"] in ("fresh", "v1"):
            client.post(f"/api/v1/calls/{call['id']}/outcome", headers=auth("agent"), json=REACHED)
    # Never contacted and their first call's time past: due, and overdue (shared.coverage).
    from services.calls.calls.tables import Call

    with app.extensions["rapport"].uow() as work:
        for call in calls_of(client):
            if call["customer_id"] in ("stale", "never", "v2"):
                work.session.get(Call, call["id"]).due_at = clock.now() - timedelta(days=2)
    rows = client.get("/api/v1/coverage", headers=auth("analyst")).json["items"]
    targeted = Counter(r["segment"] for r in rows)
    compliant = Counter(r["segment"] for r in rows if r["compliant"])
    assert (targeted, compliant) == ({"smb": 3, "vip": 2}, {"smb": 1, "vip": 1})
    got = scrape(app)
    assert {
        dict(k)["segment"]: v for k, v in got["rapport_coverage_targeted_customers"].items()
    } == targeted
    assert {
        dict(k)["segment"]: v for k, v in got["rapport_coverage_compliant_customers"].items()
    } == compliant


def test_each_periodic_jobs_interval_and_pause_are_exposed_as_an_operator_set_them(app, client):
    from services.calls import periodic
    from services.calls.db import PeriodicJob
    from shared.metrics import PeriodicJobsCollector
    from shared.periodic import Scheduler

    ctx = app.extensions["rapport"]
    Scheduler("calls", ctx.db, PeriodicJob, periodic.jobs(ctx.settings, ctx.db)).register()
    r = client.patch(
        "/api/v1/periodic-jobs/missed-calls",
        headers=auth("admin"),
        json={"every_seconds": 600, "paused": True},
    )
    assert r.status_code == 200, r.json
    body, _ = exposition([PeriodicJobsCollector("calls", ctx.db, PeriodicJob)])
    samples = {
        (s.name, s.labels["job"]): s.value
        for f in text_string_to_metric_families(body.decode())
        for s in f.samples
        if s.name in ("rapport_periodic_job_interval_seconds", "rapport_periodic_job_paused")
        and s.labels.get("service") == "calls"
    }
    jobs = client.get("/api/v1/periodic-jobs", headers=auth()).json
    assert samples == {
        **{("rapport_periodic_job_interval_seconds", j["name"]): j["every_seconds"] for j in jobs},
        **{("rapport_periodic_job_paused", j["name"]): float(j["paused"]) for j in jobs},
    }
    assert samples[("rapport_periodic_job_paused", "missed-calls")] == 1


def test_scrapes_within_a_minute_share_one_round_of_queries(app, client):
    from sqlalchemy import event

    project(app, "c1")
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=2)
    db = app.extensions["rapport"].db
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        collector = CallsCollector("calls", db)
        first, _ = exposition([collector])
        ran = len(statements)
        second, _ = exposition([collector])
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert ran >= 6 and len(statements) == ran
    [targeted] = [
        line
        for line in first.decode().splitlines()
        if line.startswith("rapport_coverage_targeted_customers{")
    ]
    assert targeted.endswith(" 1.0") and targeted in second.decode().splitlines()
