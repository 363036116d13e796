"""Continuous assignment: the ``assign-calls`` job, run by the service's own scheduler
on a moved clock, assigns what falls due within the lead time, keeps a customer with
who served them last, and moves the calls an agent can no longer take."""

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.calls import config
from services.calls.db import PeriodicJob
from services.calls.people import continuous_assignment as continuous
from services.calls.people.tables import Assignment
from shared import clock
from shared.periodic import Scheduler
from tests.calls.helpers import (
    TRAINED,
    add_agent,
    add_partner,
    calls_of,
    create_plan,
    only_jobs,
    payloads,
    project,
    schedule,
)
from tests.conftest import auth

DAILY = "FREQ=DAILY;BYHOUR=10;BYMINUTE=0"
REACHED = {"outcome": "reached", "satisfaction": 5, "propensity": 60, "duration_seconds": 120}


@pytest.fixture
def moved_clock(tmp_path):
    path = tmp_path / "offset"
    clock.use_offset_file(path)
    offset = [timedelta(0)]

    def move(by: timedelta) -> None:
        offset[0] += by
        clock.set_offset(path, offset[0])

    yield move
    clock.use_offset_file(None)


@pytest.fixture
def job(app, moved_clock):
    """One pass of the service's periodic work as its relay would run it, a minute on."""
    ctx = app.extensions["rapport"]
    settings = config.load({"DATABASE_URL": ctx.db.url, "DEV_MODE": "1"})
    scheduler = Scheduler(
        "calls", ctx.db, PeriodicJob, only_jobs(settings, ctx.db, "assign-calls"), settings=settings
    )
    scheduler.register()

    def run(after: timedelta = timedelta(minutes=1, seconds=1)) -> None:
        moved_clock(after)
        assert "assign-calls" in scheduler.run_due()

    return run


def holders(client, **filters) -> dict:
    return {c["id"]: c["agent_id"] for c in calls_of(client, **filters)}


def history(client, call_id) -> list[tuple]:
    items = client.get(f"/api/v1/calls/{call_id}/assignments", headers=auth()).json["items"]
    return [(h["agent_id"], h["mode"], h["basis"], h["decided_by"]) for h in items]


def test_new_calls_are_assigned_by_the_job_within_the_lead_time_without_anyone_asking(
    app, client, job
):
    project(app, "c1", "c2")
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=10)
    add_agent(client, "alice")
    add_agent(client, "bob")
    job()
    lead_end = clock.now() + timedelta(hours=72)
    calls = calls_of(client)
    due_soon = [c for c in calls if c["due_at"] <= lead_end.isoformat()]
    assert due_soon and all(c["agent_id"] for c in due_soon)
    assert all(c["agent_id"] is None for c in calls if c not in due_soon)
    assert Counter(c["agent_id"] for c in due_soon) == {
        "alice": len(due_soon) // 2,
        "bob": len(due_soon) // 2,
    }
    assert {history(client, c["id"])[0][2:] for c in due_soon} == {("round_robin", "assign-calls")}
    assert {p["basis"] for p in payloads(app, "call.assigned")} == {"round_robin"}
    job()  # nothing new has come into the lead time: the pass changes nothing
    assert len(payloads(app, "call.assigned")) == len(due_soon)
    job(timedelta(days=3))
    assert sum(1 for c in calls_of(client) if c["agent_id"]) > len(due_soon)


def test_continuity_keeps_the_customer_with_the_agent_who_served_them_last(app, client, job):
    project(app, "c1")
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=10)
    for name in ("alice", "bob", "carol"):
        add_agent(client, name)
    first = calls_of(client)[0]
    r = client.post(
        f"/api/v1/calls/{first['id']}/assignment",
        headers=auth(),
        json={"agent_id": "carol", "reason": "speaks to this family"},
    )
    assert r.status_code == 200
    assert (
        client.post(
            f"/api/v1/calls/{first['id']}/outcome", headers=auth(), json=REACHED
        ).status_code
        == 201
    )
    job()
    later = [c for c in calls_of(client) if c["agent_id"] and c["id"] != first["id"]]
    # Round-robin alone would have started with alice.
    assert later and {c["agent_id"] for c in later} == {"carol"}
    assert {history(client, c["id"])[-1][2] for c in later} == {"continuity"}
    [event, *_] = [p for p in payloads(app, "call.assigned") if p["basis"] == "continuity"]
    assert f"served the customer on call {first['id']}" in event["reason"]


def test_continuity_stays_with_the_partner_when_its_agent_no_longer_can(app, client, job):
    project(app, "c1")
    partner = add_partner(client)
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=10)
    add_agent(client, "alice")
    add_agent(client, "pat", kind="partner", partner_id=partner["id"])
    add_agent(client, "pia", kind="partner", partner_id=partner["id"])
    first = calls_of(client)[0]
    client.post(
        f"/api/v1/calls/{first['id']}/assignment",
        headers=auth(),
        json={"agent_id": "pat", "reason": "partner pilot"},
    )
    r = client.post(
        f"/api/v1/partner/calls/{first['id']}/outcome",
        headers=auth("partner", partner["id"]),
        json=REACHED,
    )
    assert r.status_code == 201
    client.patch("/api/v1/agents/pat", headers=auth(), json={"active": False})
    job()
    later = [c for c in calls_of(client) if c["agent_id"] and c["id"] != first["id"]]
    assert later and {(c["agent_id"], c["partner_id"]) for c in later} == {("pia", partner["id"])}
    assert {history(client, c["id"])[-1][2] for c in later} == {"continuity"}


def test_a_deactivated_agents_open_calls_move_to_a_qualified_agent(app, client, job):
    project(app, "c1", "c2")
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=5)
    add_agent(client, "alice")
    add_agent(client, "bob")
    job()
    alices = [i for i, agent in holders(client).items() if agent == "alice"]
    assert alices
    assert (
        client.patch("/api/v1/agents/alice", headers=auth(), json={"active": False}).status_code
        == 200
    )
    job()
    assert {holders(client)[i] for i in alices} == {"bob"}
    assert [h[:3] for h in history(client, alices[0])] == [
        ("alice", "auto", "round_robin"),
        (None, "returned", "agent_deactivated"),
        ("bob", "auto", "round_robin"),
    ]


def test_calls_due_after_an_agents_training_expires_move_and_earlier_ones_stay(app, client, job):
    project(app, "c1")
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=5)
    add_agent(client, "alice")
    job()
    held = sorted((c["due_at"], c["id"]) for c in calls_of(client) if c["agent_id"])
    assert len(held) >= 2
    first_day = held[0][0][:10]  # the first call's day (10:00 in Hong Kong: same date)
    add_agent(client, "bob")
    client.patch(
        "/api/v1/agents/alice",
        headers=auth(),
        json={"trainings": [{"name": "pdpo", "expires_on": first_day}]},
    )
    job()
    now = holders(client)
    assert now[held[0][1]] == "alice"
    assert {now[call_id] for _, call_id in held[1:]} == {"bob"}
    assert history(client, held[1][1])[1][:3] == (None, "returned", "training_expired")


def test_an_agent_over_a_lowered_capacity_keeps_its_first_calls_and_the_rest_spread(
    app, client, job
):
    project(app, *[f"c{i}" for i in range(6)])
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=1)
    add_agent(client, "alice")
    job()
    assert Counter(holders(client).values()) == {"alice": 6}
    add_agent(client, "bob")
    add_agent(client, "carol")
    client.patch("/api/v1/agents/alice", headers=auth(), json={"daily_capacity": 2})
    job()
    assert Counter(holders(client).values()) == {"alice": 2, "bob": 2, "carol": 2}
    with app.extensions["rapport"].db.reader() as session:
        returned = session.scalars(
            select(Assignment.basis).where(Assignment.mode == "returned")
        ).all()
    assert returned == ["over_capacity"] * 4
    job()  # within capacity now: nothing moves again
    assert Counter(holders(client).values()) == {"alice": 2, "bob": 2, "carol": 2}


def test_a_call_no_one_can_take_waits_with_its_reason_and_is_taken_when_someone_can(
    app, client, job
):
    project(app, "c1")
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=2)
    add_agent(client, "visitor", channels=["visit"])
    job()
    waiting = calls_of(client, unassignable="true")
    assert waiting and all("channel phone" in c["unassigned_reason"] for c in waiting)
    add_agent(client, "alice", trainings=TRAINED)
    job()
    assert calls_of(client, unassignable="true") == []
    assert set(holders(client).values()) == {"alice"}


def test_the_lead_time_is_a_setting_and_a_bad_one_stops_the_start(app):
    ctx = app.extensions["rapport"]
    settings = config.load(
        {"DATABASE_URL": ctx.db.url, "DEV_MODE": "1", "CALLS_ASSIGN_LEAD_HOURS": "0"}
    )
    with pytest.raises(ValueError, match="ASSIGN_LEAD_HOURS"):
        only_jobs(settings, ctx.db, "assign-calls")


def test_work_returned_by_a_suspended_partner_goes_back_through_the_job(app, client, job):
    project(app, "c1", "c2")
    partner = add_partner(client)
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=3)
    add_agent(client, "pat", kind="partner", partner_id=partner["id"])
    job()
    pats = set(holders(client))
    assert pats and set(holders(client).values()) == {"pat"}
    add_agent(client, "alice")
    r = client.patch(
        f"/api/v1/partners/{partner['id']}", headers=auth(), json={"status": "suspended"}
    )
    assert r.status_code == 200
    assert {holders(client)[i] for i in pats} == {None}
    job()
    assert {holders(client)[i] for i in pats} == {"alice"}
    some = sorted(pats)[0]
    assert [h[:3] for h in history(client, some)] == [
        ("pat", "auto", "round_robin"),
        (None, "returned", "partner_suspended"),
        ("alice", "auto", "round_robin"),
    ]


def test_a_pass_says_what_it_did_and_a_second_finds_nothing_to_do(app, client, moved_clock):
    project(app, "c1", "c2")
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=1)
    add_agent(client, "alice")
    add_agent(client, "bob")
    uow = app.extensions["rapport"].uow
    assert continuous.run_pass(uow, clock.now()) == {"assigned": 2, "unassignable": 0}
    client.patch("/api/v1/agents/alice", headers=auth(), json={"active": False})
    assert continuous.run_pass(uow, clock.now()) == {
        "returned_agent_deactivated": 1,
        "assigned": 1,
        "unassignable": 0,
    }
    assert continuous.run_pass(uow, clock.now()) == {"assigned": 0, "unassignable": 0}
    assert set(holders(client).values()) == {"bob"}
