"""Finding a customer and logging a call in the workspace, end to end in a real
Chromium, every process separate: a customer registered through the customer service
reaches the calls service's projection by event; the agent finds them by a partial,
unaccented name and by their external reference (a changed one too), opens the due
visit from their page, answers the checklist and asks for a callback; the profile
and the reports show it; then the agent logs an inbound call from the customer page.
No console errors; no serious axe-core violations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.calls.workspace.form import ZONE
from shared.auth import issue_token
from shared.testing import wait_for
from tests.e2e.test_system import register, segment
from tests.e2e.test_workspace import ADDRESS, _visit_for

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _unique_word() -> str:
    """A surname no other test's customer has (letters only: a name's words)."""
    return "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8]).capitalize()


def test_an_agent_finds_a_customer_works_the_due_call_and_logs_an_inbound_one(
    running_system, chromium, axe_source, shots
):
    client, page, seg = running_system, chromium, segment()
    word = _unique_word()
    customer = register(
        client,
        seg,
        name=f"NGÔ Thị {word}",
        phone="6234 5691",
        address=ADDRESS,
        external_ref=f"ERP-{word}",
    )
    agent = f"ann-{seg}"
    call = _visit_for(client, seg, customer["id"], agent)  # so the projection has them
    base = client.system.api_url("calls")
    page.goto(f"{base}/workspace/customers?token={issue_token(client.secret, agent, 'agent')}")
    page.fill({"q": f"{word[:5].upper()} ngo"})
    page.submit()
    assert f"NGÔ Thị {word}" in page.text()
    assert page.axe(axe_source) == []
    page.screenshot(shots / "workspace-search.png")
    page.viewport(375, mobile=True)
    assert not page.scrolls_sideways()
    page.viewport(1280)
    # The external reference came with customer.registered; a new one with the update.
    page.fill({"q": f"ERP-{word}"})
    page.submit()
    assert f"NGÔ Thị {word}" in page.text() and f"ERP-{word}" in page.text()
    assert (
        client.call(
            "PATCH",
            "customer",
            f"/customers/{customer['id']}",
            json={"external_ref": f"CRM-{word}"},
        ).status_code
        == 200
    )

    def found(q):
        return [
            c["customer_id"]
            for c in client.get("calls", "/customers/search", params={"q": q}).json()["items"]
        ]

    wait_for(
        lambda: found(f"CRM-{word}") == [customer["id"]],
        15,
        message="the new reference in the calls service's projection",
    )
    assert found(f"ERP-{word}") == []

    page.load(
        lambda: page.js(
            f"document.querySelector('a[href$=\"/customers/{customer['id']}\"]').click()"
        )
    )
    assert "Log a call" in page.text() and "8 Argyle Street" in page.text()
    assert page.axe(axe_source) == []
    page.load(lambda: page.js(f"document.querySelector('a[href$=\"{call['id']}\"]').click()"))
    when = (datetime.now(ZONE) + timedelta(days=1)).replace(hour=15, minute=0)
    page.fill(
        {
            "outcome": "callback_requested",
            "answer.budget": "30000",
            "answer.renewing": "yes",
            "callback_at": when.strftime("%Y-%m-%dT%H:%M"),
        }
    )
    page.submit()
    assert "Outcome recorded" in page.text()
    done = client.get("calls", f"/calls/{call['id']}").json()
    assert (done["outcome"], done["answers"]) == (
        "callback_requested",
        {"budget": 30000, "renewing": True},
    )
    assert datetime.fromisoformat(done["callback_at"]) == when.replace(second=0, microsecond=0)

    def completed(n):
        def profile():
            found = client.get("customer", f"/customers/{customer['id']}").json()
            return found if found.get("calls_completed") == n else None

        return profile

    assert wait_for(completed(1), 15, message="the call on the profile")["last_contacted_at"]
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

    page.goto(f"{base}/workspace/customers/{customer['id']}")
    page.fill(
        {
            "direction": "inbound",
            "channel": "phone",
            "outcome": "reached",
            "satisfaction": "5",
            "propensity": "40",
            "notes": "called about the renewal",
        }
    )
    page.submit()
    assert "Call logged." in page.text() and "called about the renewal" in page.text()
    assert page.errors() == []
    logged = [
        c
        for c in client.get("calls", "/calls", params={"customer_id": customer["id"]}).json()[
            "items"
        ]
        if c["kind"] == "inbound"
    ]
    assert [(c["status"], c["outcome"], c["channel"]) for c in logged] == [
        ("completed", "reached", "phone")
    ]
    assert wait_for(completed(2), 15, message="the inbound call on the profile")
