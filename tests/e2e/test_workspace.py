"""The agent's workspace end to end in a real Chromium, every process separate: a
customer registered with an address through the customer service gets a visit by
event; the agent signs in, opens the due visit, sees the address, is refused without
the CSRF token and on bad input (nothing written), answers the checklist and records a
callback; the customer's profile and the reports then show the call. No console
errors; no serious axe-core violations on the call page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.calls.workspace.form import ZONE
from shared.auth import issue_token
from shared.testing import wait_for
from tests.e2e.test_system import register, segment

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
ADDRESS = {"line1": "8 Argyle Street", "district": "Mong Kok", "city": "Hong Kong", "country": "HK"}
CHECKLIST = [
    {"id": "budget", "question": "Budget this year (HKD)?", "answer_type": "number"},
    {"id": "renewing", "question": "Renewing the policy?", "answer_type": "yes_no"},
]


def _visit_for(client, seg, customer_id, agent):
    skills = {
        "languages": ["zh-HK", "en"],
        "segments": [seg],
        "channels": ["visit"],
        "trainings": [{"name": "pdpo", "expires_on": "2099-01-01"}],
        "daily_capacity": 50,
        "kind": "staff",
        "rate_per_minute": "2",
    }
    assert (
        client.post("calls", "/agents", json={"id": agent, "name": agent, **skills}).status_code
        == 201
    )
    plan = client.post(
        "calls",
        "/call-plans",
        json={
            "name": f"visits {seg}",
            "segment": seg,
            "channel": "visit",
            "checklist": CHECKLIST,
            "rrule": "FREQ=DAILY;BYHOUR=10;BYMINUTE=0",
            "starts_at": datetime.now(UTC).isoformat(),
        },
    ).json()

    def assigned():
        client.post("calls", f"/call-plans/{plan['id']}/schedule", json={"horizon_days": 2})
        client.post("calls", "/calls/assign", json={})
        calls = client.get(
            "calls", "/calls", params={"customer_id": customer_id, "agent_id": agent}
        ).json()["items"]
        return calls[0] if calls else None

    return wait_for(assigned, 20, interval=0.3, message="a visit assigned to the agent")


def test_an_agent_records_a_visit_in_the_workspace_and_the_profile_and_reports_show_it(
    running_system, chromium, axe_source
):
    client, page, seg = running_system, chromium, segment()
    customer = register(client, seg, name="Wong Mei Ling", phone="6234 5690", address=ADDRESS)
    agent = f"ann-{seg}"
    call = _visit_for(client, seg, customer["id"], agent)
    base = client.system.api_url("calls")
    page.goto(f"{base}/workspace/?token={issue_token(client.secret, agent, 'agent')}")
    page.load(lambda: page.js(f"document.querySelector('a[href$=\"{call['id']}\"]').click()"))
    assert "8 Argyle Street, Mong Kok" in page.text()
    assert page.axe(axe_source) == []

    page.js("document.querySelector('main form input[name=csrf_token]').remove()")
    page.submit()
    assert "Form refused" in page.text()
    page.goto(f"{base}/workspace/calls/{call['id']}")
    when = (datetime.now(ZONE) + timedelta(days=1)).replace(hour=15, minute=0)
    page.fill(
        {
            "outcome": "callback_requested",
            "answer.budget": "30000",
            "callback_at": (when - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        }
    )
    page.submit()
    assert (
        page.js("document.getElementById('callback_at-error').textContent")
        == "Must be in the next 90 days."
    )
    assert client.get("calls", f"/calls/{call['id']}").json()["status"] == "scheduled"

    page.fill({"answer.renewing": "yes", "callback_at": when.strftime("%Y-%m-%dT%H:%M")})
    page.submit()
    assert "Outcome recorded" in page.text()
    assert page.errors() == []
    done = client.get("calls", f"/calls/{call['id']}").json()
    assert (done["outcome"], done["answers"]) == (
        "callback_requested",
        {"budget": 30000, "renewing": True},
    )
    assert datetime.fromisoformat(done["callback_at"]) == when.replace(second=0, microsecond=0)

    def profile():
        found = client.get("customer", f"/customers/{customer['id']}").json()
        return found if found.get("calls_completed") == 1 else None

    assert wait_for(profile, 15, message="the call on the profile")["last_contacted_at"]

    today = datetime.now(UTC).date()

    def reported():
        totals = client.get(
            "reporting",
            "/reports/activity",
            role="analyst",
            params={
                "from": str(today - timedelta(days=2)),
                "to": str(today + timedelta(days=2)),
                "segment": seg,
            },
        ).json()["totals"]
        return totals if totals["completed"] >= 1 else None

    assert wait_for(reported, 15, message="the call in the activity report")["completed"] == 1
