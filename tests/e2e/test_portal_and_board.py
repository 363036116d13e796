"""The partner portal and the manager's assignment board end to end in a real
Chromium, every process separate (SQLite only: the workspace's agent flow runs on
PostgreSQL too, and these pages read the same tables through the same use cases).

A partner signs in to the portal and sees its own agents' calls and no other
partner's; another partner's call, like one that never existed, is the same neutral
page, which names neither customer. The partner records a short sale-opportunity
call; the sales service opens a deal from it, and the agents report counts the
quality flag the calls service raised and the deal, under the partner. A manager
then moves a staff agent's calls to another agent in bulk on the board, after a
refusal that moved nothing. No console errors; no serious axe-core violations;
screenshots with RAPPORT_SCREENSHOTS=1.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.auth import issue_token
from shared.testing import wait_for
from tests.e2e.conftest import start_system
from tests.e2e.test_system import register, segment

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
# One occurrence per customer: no later call can reach an agent while a test counts.
RULE = "FREQ=DAILY;BYHOUR=10;BYMINUTE=0;COUNT=1"


@pytest.fixture(scope="module")
def running_system(request, amqp_url, tmp_path_factory):
    yield from start_system(request, amqp_url, tmp_path_factory, database="sqlite")


@pytest.fixture(scope="module")
def work(running_system):
    """Six customers of a new segment, a call each, held two by each partner's agent
    and two by a staff agent; a second staff agent holds none."""
    client, seg = running_system, segment()
    customers = [
        register(client, seg, name=f"{name} {seg[-4:]}", phone=phone)
        for name, phone in (
            ("Chan Tai Man", "6234 5701"),
            ("Ho Wing", "6234 5702"),
            ("Lee Ka Yan", "6234 5703"),
            ("Mak Siu", "6234 5704"),
            ("Lam Wai", "6234 5705"),
            ("Yip Po", "6234 5706"),
        )
    ]
    partners = {}
    for label in ("a", "b"):
        r = client.post(
            "calls",
            "/partners",
            json={"name": f"Partner {label.upper()} {seg}", "fee_per_call": "30.00"},
        )
        assert r.status_code == 201, r.text
        partners[label] = r.json()["id"]
    agents = {"a": f"pa-{seg}", "b": f"pb-{seg}", "ann": f"ann-{seg}", "cat": f"cat-{seg}"}
    skills = {
        "languages": ["zh-HK", "en"],
        "segments": [seg],
        "channels": ["phone"],
        "trainings": [{"name": "pdpo", "expires_on": "2099-01-01"}],
        "daily_capacity": 50,
    }
    for label, agent in agents.items():
        body = (
            {"kind": "partner", "partner_id": partners[label]}
            if label in partners
            else {"kind": "staff", "rate_per_minute": "2"}
        )
        r = client.post("calls", "/agents", json={"id": agent, "name": agent, **skills, **body})
        assert r.status_code == 201, r.text
    plan = client.post(
        "calls",
        "/call-plans",
        json={
            "name": f"calls {seg}",
            "segment": seg,
            "channel": "phone",
            "rrule": RULE,
            "starts_at": datetime.now(UTC).isoformat(),
        },
    )
    assert plan.status_code == 201, plan.text
    ids = [c["id"] for c in customers]

    def scheduled():
        # The calls service hears of the customers by event: schedule until it has.
        client.post("calls", f"/call-plans/{plan.json()['id']}/schedule", json={"horizon_days": 3})
        calls = client.get(
            "calls", "/calls", params={"plan_id": plan.json()["id"], "limit": 100}
        ).json()["items"]
        by_customer = {c["customer_id"]: c for c in calls}
        return [by_customer[i] for i in ids] if set(ids) <= set(by_customer) else None

    calls = wait_for(scheduled, 20, interval=0.3, message="a call for every customer")
    holders = ["a", "a", "b", "b", "ann", "ann"]
    for call, label in zip(calls, holders):
        r = client.post(
            "calls",
            f"/calls/{call['id']}/assignment",
            json={"agent_id": agents[label], "reason": "e2e set-up"},
        )
        assert r.status_code == 200, r.text
    return {
        "seg": seg,
        "customers": customers,
        "calls": calls,
        "partners": partners,
        "agents": agents,
        "holders": dict(zip((c["id"] for c in calls), holders)),
    }


def _held_by(work, label) -> list[dict]:
    return [c for c in work["calls"] if work["holders"][c["id"]] == label]


def test_a_partner_sees_only_its_own_work_and_a_neutral_page_for_anyone_elses(
    running_system, work, chromium, axe_source, shots
):
    client, page = running_system, chromium
    base = client.system.api_url("calls")
    token = issue_token(client.secret, "supervisor-a", "partner", work["partners"]["a"])
    page.goto(f"{base}/portal/?token={token}")
    assert "token=" not in page.js("location.href") and "Your agents' calls" in page.text()
    links = page.js(
        "Array.from(document.querySelectorAll('main a[href*=\"/portal/calls/\"]'))"
        ".map(a => a.getAttribute('href').split('/').pop())"
    )
    assert sorted(links) == sorted(c["id"] for c in _held_by(work, "a"))
    assert page.axe(axe_source) == []
    page.screenshot(shots / "portal-queue.png")

    # Another partner's call and a call that never existed: the same page, naming no one.
    theirs = _held_by(work, "b")[0]
    page.goto(f"{base}/portal/calls/{theirs['id']}")
    neutral = page.text()
    assert "This call is not in your work." in neutral
    for customer in work["customers"]:
        assert customer["name"] not in neutral and customer["phone"][-4:] not in neutral
    assert work["agents"]["b"] not in neutral and "403" not in neutral
    assert page.axe(axe_source) == []
    page.screenshot(shots / "portal-not-yours.png")
    page.goto(f"{base}/portal/calls/00000000-0000-4000-8000-000000000000")
    assert page.text() == neutral
    bearer = {"Authorization": f"Bearer {token}"}
    answers = [
        client.http.get(f"{base}/portal/calls/{call_id}", headers=bearer, timeout=10)
        for call_id in (theirs["id"], "00000000-0000-4000-8000-000000000000")
    ]
    assert [r.status_code for r in answers] == [404, 404]
    assert answers[0].text == answers[1].text

    # Its own call: the outcome form records a sale opportunity too short to be real.
    mine = _held_by(work, "a")[0]
    page.goto(f"{base}/portal/calls/{mine['id']}")
    page.fill({"outcome": "sale_opportunity", "duration_seconds": "4"})
    page.submit()
    assert "Outcome recorded: sale_opportunity" in page.text()
    assert page.errors() == []
    done = client.get("calls", f"/calls/{mine['id']}").json()
    assert (done["status"], done["outcome"]) == ("completed", "sale_opportunity")
    flags = client.get("calls", "/quality-flags", params={"call_id": mine["id"]}).json()
    assert [f["rule"] for f in flags["items"]] == ["duration"]

    today = datetime.now(UTC).date()
    period = {
        "from": str(today - timedelta(days=2)),
        "to": str(today + timedelta(days=2)),
        "segment": work["seg"],
        "group_by": "partner",
    }

    def reported():
        groups = client.get("reporting", "/reports/agents", role="manager", params=period).json()[
            "groups"
        ]
        mine = next((g for g in groups if g["key"] == work["partners"]["a"]), None)
        return mine if mine and mine["deals"]["from_opportunities"] else None

    partner_a = wait_for(reported, 30, message="the partner's flag and deal reported")
    assert partner_a["completed"] == partner_a["opportunities"] == 1
    assert partner_a["quality_flags"] == {"flagged": 1, "rate": 1.0, "rules": {"duration": 1}}
    assert partner_a["deals"]["conversion"] == 1.0


def test_a_manager_reassigns_an_agents_calls_in_bulk_on_the_board(
    running_system, work, chromium, axe_source, shots
):
    client, page = running_system, chromium
    base = client.system.api_url("calls")
    ann, cat = work["agents"]["ann"], work["agents"]["cat"]
    anns = {c["id"] for c in _held_by(work, "ann")}

    def holders() -> dict:
        calls = client.get(
            "calls", "/calls", params={"plan_id": work["calls"][0]["plan_id"], "limit": 100}
        ).json()["items"]
        return {c["id"]: c["agent_id"] for c in calls if c["status"] == "scheduled"}

    before = holders()
    assert {i for i, agent in before.items() if agent == ann} == anns

    page.goto(f"{base}/workspace/board/?token={issue_token(client.secret, 'meg', 'manager')}")
    assert "Assignment board" in page.text() and "token=" not in page.js("location.href")
    assert ann in page.text()
    assert page.axe(axe_source) == []
    page.screenshot(shots / "board.png")

    page.fill({"agent_id": ann, "to_agent_id": "", "reason": " "})
    page.submit()
    assert "Nothing was reassigned" in page.text()
    assert page.js("document.getElementById('reason').getAttribute('aria-invalid')") == "true"
    assert page.axe(axe_source) == []
    assert holders() == before

    page.fill({"agent_id": ann, "to_agent_id": cat, "reason": "ann is on leave"})
    page.submit()
    assert f"{len(anns)} calls matched" in page.text()
    after = holders()
    assert after == {**before, **dict.fromkeys(anns, cat)}
    assert page.axe(axe_source) == []
    page.screenshot(shots / "board-reassigned.png")
    page.viewport(375, 800, mobile=True)
    assert not page.scrolls_sideways()
    page.viewport(1280, 800)
    assert page.errors() == []
