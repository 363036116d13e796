"""Consent-gated scheduling and the customer events that plan, move, cancel and
re-point calls, through the real dispatcher and inbox."""

from datetime import UTC, datetime, timedelta

from services.calls.customers.tables import Customer
from tests.calls.helpers import (
    calls_of,
    consent,
    create_plan,
    deliver,
    payloads,
    project,
    register,
    schedule,
)
from tests.conftest import auth

NOW = datetime.now(UTC)
DAILY = "FREQ=DAILY;BYHOUR=10;BYMINUTE=0"


def statuses(client, customer_id):
    return sorted(c["status"] for c in calls_of(client, customer_id=customer_id))


def test_marketing_calls_need_consent_for_their_channel_and_purpose(app, client):
    project(app, "yes", "no", "other")
    consent(app, "yes")
    consent(app, "other", channel="email")
    consent(app, "other", purpose="loans")
    plan = create_plan(client, purpose="insurance")
    r = schedule(client, plan["id"], days=14).json
    assert (r["created"], r["no_consent"]) == (2, 4)
    assert {c["customer_id"] for c in calls_of(client)} == {"yes"}


def test_service_calls_need_no_consent_but_respect_an_opt_out(app, client):
    project(app, "c1", "c2")
    deliver(
        app,
        "customer.opted_out",
        customer_id="c2",
        channel=None,
        purpose=None,
        reason="do_not_call",
        opted_out_at=NOW,
    )
    plan = create_plan(client)  # purpose "service"
    assert schedule(client, plan["id"], days=14).json["created"] == 2
    assert {c["customer_id"] for c in calls_of(client)} == {"c1"}


def test_a_registered_customer_in_a_targeted_segment_gets_its_calls(app, client):
    # Holidays allowed: a public holiday's call moves to the next day's, merging two.
    plan = create_plan(client, rrule=DAILY, starts_at=NOW.isoformat(), allow_holidays=True)
    create_plan(client, segment="enterprise", rrule=DAILY)
    register(app, "c1")
    calls = calls_of(client, customer_id="c1")
    assert len(calls) in (29, 30, 31) and {c["plan_id"] for c in calls} == {plan["id"]}
    assert len(payloads(app, "call.scheduled")) == len(calls)
    # Scheduling the plan afterwards adds nothing: the same slots.
    assert schedule(client, plan["id"], days=30).json["created"] <= 1


def test_a_segment_change_moves_the_calls(app, client):
    smb = create_plan(client, rrule=DAILY)
    ent = create_plan(client, segment="enterprise", rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=10")
    register(app, "c1")
    deliver(
        app,
        "customer.updated",
        customer_id="c1",
        segment="enterprise",
        changes={"segment": {"old": "smb", "new": "enterprise"}},
    )
    by_plan = {}
    for c in calls_of(client, customer_id="c1"):
        by_plan.setdefault((c["plan_id"], c["status"]), []).append(c)
    assert set(by_plan) == {(smb["id"], "cancelled"), (ent["id"], "scheduled")}
    cancelled = payloads(app, "call.cancelled")
    assert {p["reason"] for p in cancelled} == {"segment_changed"}
    assert len(cancelled) == len(by_plan[(smb["id"], "cancelled")])


def test_an_opt_out_cancels_pending_calls_of_that_channel_and_purpose_and_blocks_new(app, client):
    project(app, "c1")
    consent(app, "c1", purpose="insurance")
    consent(app, "c1", channel="email", purpose="insurance")
    phone = create_plan(client, purpose="insurance", rrule=DAILY)
    email = create_plan(client, purpose="insurance", channel="email", rrule=DAILY)
    service = create_plan(client, rrule=DAILY)
    for plan in (phone, email, service):
        schedule(client, plan["id"], days=7)
    deliver(
        app,
        "customer.opted_out",
        customer_id="c1",
        channel="phone",
        purpose="insurance",
        opted_out_at=datetime.now(UTC),
    )
    by_plan = {}
    for c in calls_of(client, customer_id="c1"):
        by_plan.setdefault(c["plan_id"], set()).add(c["status"])
    assert by_plan == {
        phone["id"]: {"cancelled"},
        email["id"]: {"scheduled"},
        service["id"]: {"scheduled"},
    }
    assert {(p["channel"], p["purpose"], p["reason"]) for p in payloads(app, "call.cancelled")} == {
        ("phone", "insurance", "opted_out")
    }
    assert schedule(client, phone["id"], days=14).json["created"] == 0
    # Consent given again afterwards: calls may be planned again.
    consent(app, "c1", purpose="insurance")
    assert len([c for c in calls_of(client, plan_id=phone["id"]) if c["status"] == "scheduled"])


def test_an_opt_out_from_everything_cancels_every_pending_call(app, client):
    project(app, "c1")
    plan = create_plan(client, rrule=DAILY)
    schedule(client, plan["id"], days=5)
    deliver(app, "customer.opted_out", customer_id="c1", opted_out_at=NOW)
    assert set(statuses(client, "c1")) == {"cancelled"}


def test_a_consent_withdrawal_cancels_like_an_opt_out(app, client):
    project(app, "c1")
    consent(app, "c1")
    plan = create_plan(client, purpose="insurance", rrule=DAILY)
    schedule(client, plan["id"], days=5)
    consent(app, "c1", status="withdrawn")
    assert set(statuses(client, "c1")) == {"cancelled"}
    assert {p["reason"] for p in payloads(app, "call.cancelled")} == {"consent_withdrawn"}


def test_a_merge_repoints_calls_to_the_survivor(app, client):
    project(app, "keep", "gone")
    plan = create_plan(client, rrule=DAILY)
    schedule(client, plan["id"], days=3)
    other = create_plan(client, customer_ids=["gone"], segment=None, segments=[], rrule=DAILY)
    schedule(client, other["id"], days=3)
    gone_calls = calls_of(client, customer_id="gone")
    deliver(app, "customer.merged", survivor_id="keep", merged_id="gone", merged_at=NOW)
    assert calls_of(client, customer_id="gone") == [] or {
        c["status"] for c in calls_of(client, customer_id="gone")
    } == {"cancelled"}
    moved = [c for c in calls_of(client, customer_id="keep") if c["plan_id"] == other["id"]]
    assert len(moved) == len([c for c in gone_calls if c["plan_id"] == other["id"]])
    with app.extensions["rapport"].db.reader() as s:
        assert s.get(Customer, "gone").lifecycle_status == "merged"
    assert schedule(client, other["id"], days=3).json["created"] == 0


def test_an_erasure_anonymises_and_cancels(app, client):
    register(app, "c1", phone="+85291234567")
    plan = create_plan(client, rrule=DAILY)
    schedule(client, plan["id"], days=3)
    deliver(app, "customer.erased", customer_id="c1", erased_at=datetime.now(UTC))
    with app.extensions["rapport"].db.reader() as s:
        c = s.get(Customer, "c1")
        assert (c.name, c.phone, c.lifecycle_status) == (None, None, "erased")
    assert set(statuses(client, "c1")) == {"cancelled"}
    assert schedule(client, plan["id"], days=3).json["created"] == 0


def test_gaps_are_kept_for_the_next_call(app):
    register(app, "c1")
    deliver(
        app,
        "customer.gaps_detected",
        customer_id="c1",
        missing_fields=["email", "address"],
        detected_at=NOW,
    )
    with app.extensions["rapport"].db.reader() as s:
        assert s.get(Customer, "c1").gaps == ["address", "email"]


def test_a_redelivered_opt_out_has_no_second_effect(app, client):
    from shared.events import make_event
    from tests.calls.helpers import dispatcher_for

    project(app, "c1")
    plan = create_plan(client, rrule=DAILY)
    schedule(client, plan["id"], days=3)
    event = make_event(
        "customer.opted_out", {"customer_id": "c1", "opted_out_at": NOW}, producer="customer"
    )
    dispatcher = dispatcher_for(app)
    dispatcher.dispatch(event)
    before = len(payloads(app, "call.cancelled"))
    dispatcher.dispatch(event)
    assert len(payloads(app, "call.cancelled")) == before


def test_the_frequency_cap_holds_across_plans(app, client):
    project(app, "c1")
    r = client.put("/api/v1/contact-policy", headers=auth(), json={"max_calls": 2, "per_days": 7})
    assert r.status_code == 200 and r.json["max_calls"] == 2
    a = create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=10")
    b = create_plan(client, rrule="FREQ=WEEKLY;BYDAY=WE;BYHOUR=10")
    c = create_plan(client, rrule="FREQ=WEEKLY;BYDAY=FR;BYHOUR=10")
    assert schedule(client, a["id"], days=28).json["capped"] == 0
    assert schedule(client, b["id"], days=28).json["capped"] == 0
    third = schedule(client, c["id"], days=28).json
    assert third["created"] == 0 and third["capped"] >= 4
    due = sorted(datetime.fromisoformat(x["due_at"]) for x in calls_of(client))
    for when in due:
        assert sum(when <= o < when + timedelta(days=7) for o in due) <= 2
    assert (
        client.put(
            "/api/v1/contact-policy", headers=auth("agent"), json={"max_calls": 1}
        ).status_code
        == 403
    )
    bad = client.put("/api/v1/contact-policy", headers=auth(), json={"max_calls": 0})
    assert bad.status_code == 422


def test_calls_moved_by_a_merge_obey_the_survivors_opt_out(app, client):
    project(app, "keep", "gone")
    deliver(app, "customer.opted_out", customer_id="keep", channel="phone", opted_out_at=NOW)
    plan = create_plan(client, customer_ids=["gone"], segment=None, rrule=DAILY)
    schedule(client, plan["id"], days=3)
    deliver(app, "customer.merged", survivor_id="keep", merged_id="gone", merged_at=NOW)
    moved = calls_of(client, customer_id="keep")
    assert moved and {c["status"] for c in moved} == {"cancelled"}
    assert {c["cancel_reason"] for c in moved} == {"opted_out"}
