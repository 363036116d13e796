"""A manager's bulk reassignment (by agent, partner, segment or plan; to one agent or
back to the pool), and a partner's suspension and fee: work returns, tokens stop,
later calls cost the new fee."""

from collections import Counter

import pytest
from sqlalchemy import func, select

from services.calls.people.tables import Assignment
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    calls_of,
    create_plan,
    payloads,
    project,
    schedule,
)
from tests.conftest import auth

DAILY = "FREQ=DAILY;BYHOUR=10;BYMINUTE=0"
REACHED = {"outcome": "reached", "satisfaction": 4, "propensity": 50, "duration_seconds": 90}
ALL = {"segments": ["smb", "vip"]}


def decisions(app) -> int:
    with app.extensions["rapport"].db.reader() as session:
        return session.scalar(select(func.count()).select_from(Assignment))


@pytest.fixture
def held(app, client):
    """smb and vip customers on two plans, held by alice and a partner's pat; tom, who
    may take any of them, holds nothing yet."""
    project(app, "s1", "s2")
    project(app, "v1", segment="vip")
    partner = add_partner(client)
    smb = create_plan(client, rrule=DAILY)
    vip = create_plan(client, name="VIP", segment="vip", rrule=DAILY)
    for plan in (smb, vip):
        schedule(client, plan["id"], days=3)
    add_agent(client, "alice", **ALL)
    add_agent(client, "pat", kind="partner", partner_id=partner["id"], **ALL)
    assign(client, within_days=5)
    add_agent(client, "tom", **ALL)
    return {"partner": partner, "smb": smb, "vip": vip}


def reassign(client, **body):
    return client.post("/api/v1/calls/reassign", headers=auth(), json={"reason": "leave", **body})


@pytest.mark.parametrize("name", ["agent_id", "partner_id", "segment", "plan_id"])
def test_bulk_reassignment_moves_exactly_the_calls_each_filter_names(app, client, held, name):
    value = {
        "agent_id": "alice",
        "partner_id": held["partner"]["id"],
        "segment": "vip",
        "plan_id": held["vip"]["id"],
    }[name]
    before = calls_of(client)
    named = {
        c["id"]
        for c in before
        if {
            "agent_id": c["agent_id"],
            "partner_id": c["partner_id"],
            "segment": "vip" if c["customer_id"] == "v1" else "smb",
            "plan_id": c["plan_id"],
        }[name]
        == value
    }
    assert 0 < len(named) < len(before)
    r = reassign(client, **{name: value}, to_agent_id="tom")
    assert r.status_code == 200, r.json
    assert r.json == {
        "matched": len(named),
        "reassigned": len(named),
        "unassignable": 0,
        "more": False,
    }
    after = {c["id"]: c["agent_id"] for c in calls_of(client)}
    assert {i for i, agent in after.items() if agent == "tom"} == named
    assert all(after[c["id"]] == c["agent_id"] for c in before if c["id"] not in named)
    again = reassign(client, **{name: value}, to_agent_id="tom")
    assert again.json["matched"] == 0  # a repeat finds nothing left to move
    bases = Counter(p["basis"] for p in payloads(app, "call.assigned"))
    assert bases["bulk"] == len(named)


def test_bulk_reassignment_is_bounded_and_the_next_request_takes_the_rest(client, held):
    alices = [c for c in calls_of(client) if c["agent_id"] == "alice"]
    first = reassign(client, agent_id="alice", to_agent_id="tom", limit=1).json
    assert (first["matched"], first["more"]) == (1, len(alices) > 1)
    rest = reassign(client, agent_id="alice", to_agent_id="tom", limit=1000).json
    assert rest["matched"] == len(alices) - 1
    assert [c for c in calls_of(client) if c["agent_id"] == "alice"] == []


def test_bulk_reassignment_to_the_pool_never_gives_a_call_back_to_the_agent_it_left(
    app, client, held
):
    alices = {c["id"] for c in calls_of(client) if c["agent_id"] == "alice"}
    r = reassign(client, agent_id="alice")
    assert r.status_code == 200
    assert r.json["matched"] == len(alices) == r.json["reassigned"]
    now = {c["id"]: c["agent_id"] for c in calls_of(client)}
    assert {now[i] for i in alices} <= {"pat", "tom"}
    with app.extensions["rapport"].db.reader() as session:
        returned = session.scalars(
            select(Assignment.basis).where(Assignment.mode == "returned")
        ).all()
    assert returned == ["manager_bulk"] * len(alices)


@pytest.mark.parametrize(
    "body, where",
    [
        ({}, "_schema"),
        ({"to_agent_id": "tom"}, "_schema"),
        ({"agent_id": "alice", "reason": " "}, "reason"),
        ({"agent_id": "alice", "limit": 0}, "limit"),
        ({"agent_id": "alice", "to_agent_id": "ghost"}, "to_agent_id"),
    ],
)
def test_bad_bulk_reassignments_are_422_and_change_nothing(app, client, held, body, where):
    before, count = calls_of(client), decisions(app)
    r = client.post("/api/v1/calls/reassign", headers=auth(), json={"reason": "x", **body})
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert where in r.json["errors"], r.json
    assert (calls_of(client), decisions(app)) == (before, count)


def test_a_target_unfit_for_any_of_the_calls_is_422_with_the_reasons_and_moves_none(
    app, client, held
):
    add_agent(client, "sam", segments=["smb"], daily_capacity=1)
    before, count = calls_of(client), decisions(app)
    r = reassign(client, agent_id="alice", to_agent_id="sam")
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert "segment vip" in r.json["detail"] and "to_agent_id" in r.json["errors"]
    r = reassign(client, segment="smb", to_agent_id="sam")  # two a day, for one a day
    assert r.status_code == 422 and "3 at capacity" in r.json["detail"], r.json
    assert (calls_of(client), decisions(app)) == (before, count)
    assert (
        client.post(
            "/api/v1/calls/reassign",
            headers=auth("agent"),
            json={"agent_id": "alice", "reason": "x"},
        ).status_code
        == 403
    )


def test_suspending_a_partner_returns_its_open_work_and_refuses_its_tokens(app, client, held):
    partner = held["partner"]["id"]
    token = auth("partner", partner)
    pats = {c["id"] for c in calls_of(client) if c["partner_id"] == partner}
    assert pats and client.get("/api/v1/partner/calls", headers=token).status_code == 200
    r = client.patch(f"/api/v1/partners/{partner}", headers=auth(), json={"status": "suspended"})
    assert r.status_code == 200 and (r.json["status"], r.json["active"]) == ("suspended", False)
    now = {c["id"]: c for c in calls_of(client)}
    assert all(now[i]["agent_id"] is None and now[i]["partner_id"] is None for i in pats)
    assert {now[i]["unassigned_reason"] for i in pats} == {
        "returned to the pool: partner_suspended"
    }
    refused = client.get("/api/v1/partner/calls", headers=token)
    assert refused.status_code == 403 and refused.content_type == "application/problem+json"
    assert refused.json["detail"] == "partner suspended"
    some = next(iter(pats))
    assert (
        client.post(
            f"/api/v1/partner/calls/{some}/outcome", headers=token, json=REACHED
        ).status_code
        == 403
    )
    assert now[some]["status"] == "scheduled" and now[some]["outcome"] is None
    # The pool's calls go to the staff; the partner's agents are not asked.
    assign(client, within_days=5)
    assert {c["agent_id"] for c in calls_of(client) if c["id"] in pats} <= {"alice", "tom"}
    back = client.patch(f"/api/v1/partners/{partner}", headers=auth(), json={"status": "active"})
    assert back.json["status"] == "active"
    assert client.get("/api/v1/partner/calls", headers=token).status_code == 200


def test_a_new_fee_costs_the_calls_completed_after_it_only(app, client):
    project(app, "c1", "c2")
    partner = add_partner(client, fee="25.00")
    schedule(client, create_plan(client, rrule=DAILY)["id"], days=1)
    add_agent(client, "pat", kind="partner", partner_id=partner["id"])
    assign(client)
    token = auth("partner", partner["id"])
    first, second = [c["id"] for c in calls_of(client)]
    assert (
        client.post(
            f"/api/v1/partner/calls/{first}/outcome", headers=token, json=REACHED
        ).status_code
        == 201
    )
    r = client.patch(
        f"/api/v1/partners/{partner['id']}", headers=auth(), json={"fee_per_call": "31.5"}
    )
    assert r.status_code == 200 and r.json["fee_per_call"] == "31.50"
    assert (
        client.post(
            f"/api/v1/partner/calls/{second}/outcome", headers=token, json=REACHED
        ).status_code
        == 201
    )
    costs = {p["call_id"]: p["cost"] for p in payloads(app, "call.completed")}
    assert costs == {first: "25.00", second: "31.50"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "_schema"),
        ({"fee_per_call": "-1"}, "fee_per_call"),
        ({"fee_per_call": "1.00001"}, "fee_per_call"),
        ({"fee_per_call": "100001"}, "fee_per_call"),
        ({"fee_per_call": "lots"}, "fee_per_call"),
        ({"status": "gone"}, "status"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_partner_changes_are_422_and_change_nothing(client, body, field):
    partner = add_partner(client)
    r = client.patch(f"/api/v1/partners/{partner['id']}", headers=auth(), json=body)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in r.json["errors"], r.json
    assert client.get(f"/api/v1/partners/{partner['id']}", headers=auth()).json == partner


def test_partner_changes_need_a_manager_and_a_known_partner(client):
    partner = add_partner(client)
    assert (
        client.patch(
            f"/api/v1/partners/{partner['id']}",
            headers=auth("analyst"),
            json={"status": "suspended"},
        ).status_code
        == 403
    )
    assert (
        client.patch(
            "/api/v1/partners/nope", headers=auth(), json={"status": "suspended"}
        ).status_code
        == 404
    )
