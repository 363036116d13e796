"""POST /calls/unplanned: an inbound or unplanned call logged with its outcome,
completed through the same use case as any outcome, consent-gated when outbound."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.calls.helpers import consent, counts, create_plan, deliver, payloads, project
from tests.conftest import auth

NOW = datetime.now(UTC)
REACHED = {"outcome": "reached", "satisfaction": 4, "propensity": 60, "notes": "asked about fees"}


def log(client, role="agent", headers=None, **body):
    body = {"customer_id": "c1", "channel": "phone", "direction": "inbound", **REACHED, **body}
    return client.post(
        "/api/v1/calls/unplanned", headers={**auth(role), **(headers or {})}, json=body
    )


def test_an_inbound_call_is_logged_completed_and_announced_like_any_outcome(app, client):
    project(app, "c1")
    r = log(client, competitor_mentions=["RivalCo"])
    assert r.status_code == 201, r.json
    call = r.json
    assert (call["kind"], call["status"], call["outcome"], call["plan_id"]) == (
        "inbound",
        "completed",
        "reached",
        None,
    )
    assert call["completed_by"] == "tester"
    assert (
        client.get(f"/api/v1/calls/{call['id']}", headers=auth("agent")).json["status"]
        == "completed"
    )
    [done] = payloads(app, "call.completed")
    assert (
        done["call_id"],
        done["customer_id"],
        done["outcome"],
        done["satisfaction"],
        done["competitor_mentions"],
    ) == (call["id"], "c1", "reached", 4, ["RivalCo"])
    # Due at no time: it counts as done, never as done on time against a plan.
    assert (done["kind"], done["due_at"], done["plan_id"]) == ("inbound", None, None)


def test_an_unplanned_call_belongs_to_the_customers_plan_and_its_callback_is_scheduled(app, client):
    project(app, "c1")
    plan = create_plan(client)  # segment smb, phone, purpose "service"
    at = (NOW + timedelta(days=2)).replace(microsecond=0)
    r = log(
        client,
        direction="outbound",
        outcome="callback_requested",
        satisfaction=None,
        propensity=None,
        callback_at=at.isoformat(),
    )
    assert r.status_code == 201, r.json
    assert (r.json["kind"], r.json["plan_id"], r.json["purpose"]) == (
        "unplanned",
        plan["id"],
        "service",
    )
    [followup] = payloads(app, "followup.created")
    assert followup["kind"] == "callback" and followup["call_id"] is not None
    callback = client.get(f"/api/v1/calls/{followup['call_id']}", headers=auth()).json
    assert (callback["kind"], callback["status"], callback["source_call_id"]) == (
        "callback",
        "scheduled",
        r.json["id"],
    )


def test_a_complaint_on_an_inbound_call_is_followed_up(app, client):
    project(app, "c1")
    r = log(client, outcome="complaint", satisfaction=None, propensity=None)
    assert r.status_code == 201, r.json
    assert [f["kind"] for f in payloads(app, "followup.created")] == ["escalation"]


def test_an_unknown_customer_is_a_404_and_nothing_is_written(app, client):
    r = log(client, customer_id="nobody")
    assert r.status_code == 404 and r.content_type == "application/problem+json"
    assert counts(app) == (0, 0, 0)


def test_an_opted_out_customer_can_call_in_but_is_not_called_out(app, client):
    project(app, "c1")
    deliver(
        app,
        "customer.opted_out",
        customer_id="c1",
        channel=None,
        purpose=None,
        reason="do_not_call",
        opted_out_at=NOW,
    )
    before = counts(app)
    out = log(client, direction="outbound")
    assert out.status_code == 409 and out.content_type == "application/problem+json"
    assert "opted out" in out.json["detail"] and "every channel" in out.json["detail"]
    assert counts(app) == before
    assert log(client, direction="inbound").status_code == 201


def test_an_outbound_marketing_call_needs_consent_for_its_channel_and_purpose(app, client):
    project(app, "c1")
    refused = log(client, direction="outbound", purpose="insurance", opt_out_notice_given=True)
    assert refused.status_code == 409 and "no consent" in refused.json["detail"]
    consent(app, "c1", channel="phone", purpose="insurance")
    ok = log(client, direction="outbound", purpose="insurance", opt_out_notice_given=True)
    assert ok.status_code == 201, ok.json


def test_an_erased_customer_takes_no_call(app, client):
    project(app, "c1", status="erased")
    r = log(client)
    assert r.status_code == 409 and "erased" in r.json["detail"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"direction": "sideways"}, "direction"),
        ({"channel": "pigeon"}, "channel"),
        ({"customer_id": None}, "customer_id"),
        ({"outcome": "reached", "satisfaction": None}, "satisfaction"),
        (
            {
                "outcome": "no_answer",
                "satisfaction": None,
                "propensity": None,
                "referrals": [{"name": "Lee", "phone": "91234567"}],
            },
            "referrals",
        ),
        ({"answers": {"unknown_item": True}}, "answers"),
        ({"completed_at": (NOW + timedelta(days=1)).isoformat()}, "completed_at"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_input_is_a_4xx_problem_naming_the_field_and_writes_nothing(app, client, change, field):
    project(app, "c1")
    r = log(client, **change)
    assert 400 <= r.status_code < 500 and r.content_type == "application/problem+json"
    assert field in r.json["errors"], r.json
    assert counts(app) == (0, 0, 0)


def test_only_agents_and_managers_log_calls(app, client):
    project(app, "c1")
    assert log(client, role="analyst").status_code == 403
    assert log(client, role="manager").status_code == 201


def test_a_retry_with_the_same_idempotency_key_logs_one_call(app, client):
    project(app, "c1")
    first = log(client, headers={"Idempotency-Key": "k-1"})
    again = log(client, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json["id"] == again.json["id"]
    assert len(payloads(app, "call.completed")) == 1
