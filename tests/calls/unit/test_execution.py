"""Execution: the agent's queue, outcomes checked against the call's checklist and
gaps, cost on call.completed, follow-ups and quality flags."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, update

from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    build_app,
    calls_of,
    counts,
    create_plan,
    deliver,
    payloads,
    project,
    schedule,
)
from tests.conftest import auth, make_token

CHECKLIST = [
    {"id": "needs", "question": "Needs?", "answer_type": "text"},
    {"id": "renew", "question": "Renewing?", "answer_type": "yes_no"},
    {"id": "score", "question": "Score?", "answer_type": "rating", "required": False},
    {
        "id": "tier",
        "question": "Tier?",
        "answer_type": "choice",
        "options": ["gold", "silver"],
        "required": False,
    },
]
ANSWERS = {"needs": "A bigger plan", "renew": True}
REACHED = {
    "outcome": "reached",
    "satisfaction": 4,
    "propensity": 70,
    "duration_seconds": 90,
    "answers": ANSWERS,
}


def as_agent(agent_id, role="agent"):
    return {"Authorization": f"Bearer {make_token(role, subject=agent_id)}"}


def outcome(client, call_id, body, headers=None):
    return client.post(
        f"/api/v1/calls/{call_id}/outcome", headers=headers or auth("manager"), json=body
    )


@pytest.fixture
def assigned(app, client):
    """Customer c1 with gaps, three daily calls assigned to staff agent alice."""
    project(app, "c1", "c2")
    with app.extensions["rapport"].uow() as work:
        work.session.execute(
            update(Customer)
            .where(Customer.customer_id == "c1")
            .values(gaps=["email"], phone="+85291234567")
        )
    plan = create_plan(
        client,
        rrule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0",
        checklist=CHECKLIST,
        customer_ids=["c1"],
        segment=None,
    )
    schedule(client, plan["id"], days=3)
    add_agent(client, "alice", rate_per_minute="3.00", team="east")
    assign(client)
    return calls_of(client)


def test_the_queue_is_the_agents_own_calls_by_due_time_and_priority(app, client, assigned):
    urgent = create_plan(
        client,
        rrule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0",
        priority=1,
        customer_ids=["c1"],
        segment=None,
    )
    schedule(client, urgent["id"], days=3)
    assign(client)
    add_agent(client, "bob")
    r = client.get("/api/v1/queue", headers=as_agent("alice"))
    assert r.status_code == 200
    items = r.json["items"]
    keys = [(i["call"]["due_at"], i["call"]["priority"]) for i in items]
    assert len(items) == 6 and keys == sorted(keys)
    assert [k[1] for k in keys[:2]] == [1, 3]
    assert items[0]["customer"] == {
        "customer_id": "c1",
        "name": "Customer c1",
        "phone": "+85291234567",
        "preferred_language": None,
        "segment": "smb",
    }
    assert [c["id"] for c in items[1]["checklist"]] == ["needs", "renew", "score", "tier"]
    assert items[0]["items_to_confirm"] == ["email"]
    assert client.get("/api/v1/queue", headers=as_agent("bob")).json["items"] == []
    page1 = client.get("/api/v1/queue", headers=as_agent("alice"), query_string={"limit": 4}).json
    page2 = client.get(
        "/api/v1/queue",
        headers=as_agent("alice"),
        query_string={"limit": 4, "cursor": page1["next_cursor"]},
    ).json
    assert [i["call"]["id"] for i in page1["items"] + page2["items"]] == [
        i["call"]["id"] for i in items
    ]
    assert client.get("/api/v1/queue", headers=auth("analyst")).status_code == 403
    bad = client.get("/api/v1/queue", headers=as_agent("alice"), query_string={"cursor": "WzFd"})
    assert bad.status_code == 422


def test_a_staff_call_costs_minutes_times_rate(app, client, assigned):
    r = outcome(
        client,
        assigned[0]["id"],
        {**REACHED, "competitor_mentions": ["RivalCo"], "opt_out_notice_given": True},
        as_agent("alice"),
    )
    assert r.status_code == 201, r.json
    assert r.json["cost"] == "4.50"
    [event] = payloads(app, "call.completed")
    assert (event["cost"], event["agent_kind"], event["team"], event["agent_id"]) == (
        "4.50",
        "staff",
        "east",
        "alice",
    )
    assert event["checklist_compliance"] == 1.0
    assert event["competitor_mentions"] == ["RivalCo"] and event["opt_out_notice_given"]


def test_a_partner_call_costs_the_partners_fee(app, client, assigned):
    partner = add_partner(client, fee="31.50")
    add_agent(client, "pat", kind="partner", partner_id=partner["id"])
    client.post(
        f"/api/v1/calls/{assigned[0]['id']}/assignment",
        headers=auth(),
        json={"agent_id": "pat", "reason": "overflow"},
    )
    assert outcome(client, assigned[0]["id"], REACHED).status_code == 201
    [event] = payloads(app, "call.completed")
    assert (event["cost"], event["agent_kind"], event["partner_id"], event["agent_id"]) == (
        "31.50",
        "partner",
        partner["id"],
        "pat",
    )


@pytest.mark.parametrize(
    "body, field, words",
    [
        ({**REACHED, "answers": {"needs": "x"}}, "answers", "Required"),
        ({**REACHED, "answers": {**ANSWERS, "renew": "yes"}}, "answers", "true or false"),
        ({**REACHED, "answers": {**ANSWERS, "tier": "bronze"}}, "answers", "one of"),
        ({**REACHED, "answers": {**ANSWERS, "score": 6}}, "answers", "1 to 5"),
        ({**REACHED, "answers": {**ANSWERS, "mood": "ok"}}, "answers", "Not an item"),
        ({"outcome": "no_answer", "answers": ANSWERS}, "answers", "spoken to"),
        ({"outcome": "busy", "competitor_mentions": ["X"]}, "competitor_mentions", "spoken to"),
        ({**REACHED, "confirmed_fields": {"address": "x"}}, "confirmed_fields", "Not an item"),
        ({**REACHED, "duration_seconds": 40 * 3600}, "duration_seconds", ""),
        ({"outcome": "callback_requested"}, "callback_at", "Required"),
        ({"outcome": "busy", "callback_at": "2030-01-01T10:00:00+08:00"}, "callback_at", "Only"),
        ({"outcome": "interested", "referrals": [{"name": "Ho"}]}, "referrals", ""),
        (
            {"outcome": "interested", "referrals": [{"name": "Ho", "email": "nope"}]},
            "referrals",
            "",
        ),
    ],
)
def test_outcomes_that_do_not_fit_the_call_are_refused_precisely(
    app, client, assigned, body, field, words
):
    before = counts(app)
    r = outcome(client, assigned[0]["id"], body)
    assert r.status_code == 422 and r.content_type == "application/problem+json", r.json
    assert field in r.json["errors"] and words in str(r.json["errors"][field])
    assert counts(app) == before
    assert calls_of(client)[0]["status"] == "scheduled"


def test_gaps_confirmed_and_referrals_travel_on_the_event(app, client, assigned):
    referral = {"name": "Ho Kam", "phone": "+852 6123 4567", "note": "her sister"}
    r = outcome(
        client,
        assigned[0]["id"],
        {**REACHED, "confirmed_fields": {"email": "a@b.hk"}, "referrals": [referral]},
    )
    assert r.status_code == 201, r.json
    [event] = payloads(app, "call.completed")
    assert event["confirmed_fields"] == {"email": "a@b.hk"}
    assert event["referrals"] == [{**referral, "email": None, "segment": None}]
    with app.extensions["rapport"].db.reader() as s:
        assert s.get(Customer, "c1").gaps == []


def test_another_agent_may_not_record_on_a_call_assigned_to_alice(app, client, assigned):
    add_agent(client, "bob")
    r = outcome(client, assigned[0]["id"], REACHED, as_agent("bob"))
    assert r.status_code == 403
    assert outcome(client, assigned[0]["id"], REACHED, as_agent("alice")).status_code == 201


def test_an_outcome_on_a_cancelled_call_is_409(app, client, assigned):
    deliver(app, "customer.opted_out", customer_id="c1", opted_out_at=datetime.now(UTC))
    r = outcome(client, assigned[0]["id"], REACHED)
    assert r.status_code == 409 and "cancelled (opted_out)" in r.json["detail"]


def test_the_same_outcome_replayed_answers_the_same(app, client, assigned):
    body = {**REACHED, "competitor_mentions": ["RivalCo"]}
    first = outcome(client, assigned[0]["id"], body)
    again = outcome(client, assigned[0]["id"], body)
    assert (first.status_code, again.status_code) == (201, 200) and first.json == again.json
    other = outcome(client, assigned[0]["id"], {**body, "competitor_mentions": []})
    assert other.status_code == 409


def test_a_callback_is_planned_at_the_requested_time_for_the_same_agent(app, client, assigned):
    at = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    r = outcome(
        client,
        assigned[0]["id"],
        {"outcome": "callback_requested", "callback_at": at.isoformat()},
        as_agent("alice"),
    )
    assert r.status_code == 201, r.json
    [callback] = [c for c in calls_of(client) if c["kind"] == "callback"]
    assert datetime.fromisoformat(callback["due_at"]) == at
    assert (callback["agent_id"], callback["source_call_id"]) == ("alice", assigned[0]["id"])
    [followup] = payloads(app, "followup.created")
    assert (followup["kind"], followup["call_id"]) == ("callback", callback["id"])


def test_no_answer_is_retried_with_backoff_a_bounded_number_of_times(app, client, assigned):
    call_id, attempts = assigned[0]["id"], []
    for _ in range(5):
        r = outcome(client, call_id, {"outcome": "no_answer"})
        assert r.status_code == 201
        retries = [c for c in calls_of(client) if c["source_call_id"] == call_id]
        if not retries:
            break
        [retry] = retries
        attempts.append(retry["attempt"])
        call_id = retry["id"]
    assert attempts == [1, 2, 3]
    kinds = [f["kind"] for f in payloads(app, "followup.created")]
    assert kinds == ["retry"] * 3


def test_a_complaint_escalates_to_a_manager_within_a_day(app, client, assigned):
    r = outcome(
        client,
        assigned[0]["id"],
        {"outcome": "complaint", "duration_seconds": 120, "answers": ANSWERS},
    )
    assert r.status_code == 201
    [esc] = [c for c in calls_of(client) if c["kind"] == "escalation"]
    assert (esc["for_role"], esc["priority"], esc["agent_id"]) == ("manager", 1, None)
    window = datetime.fromisoformat(esc["window_end"]) - datetime.now(UTC)
    assert timedelta(hours=23) < window <= timedelta(hours=24)
    queue = client.get("/api/v1/queue", headers=as_agent("boss", "manager")).json["items"]
    assert [i["call"]["id"] for i in queue] == [esc["id"]]
    assert esc["id"] not in [
        i["call"]["id"]
        for i in client.get("/api/v1/queue", headers=as_agent("alice")).json["items"]
    ]


def test_opportunity_and_do_not_call_are_recorded_and_the_opt_out_is_honoured_at_once(
    app, client, assigned
):
    assert (
        outcome(
            client, assigned[0]["id"], {"outcome": "sale_opportunity", "duration_seconds": 60}
        ).status_code
        == 201
    )
    assert (
        outcome(
            client, assigned[1]["id"], {"outcome": "do_not_call_requested", "duration_seconds": 30}
        ).status_code
        == 201
    )
    assert [f["kind"] for f in payloads(app, "followup.created")] == ["opportunity", "opt_out"]
    assert calls_of(client)[2]["status"] == "cancelled"
    followups = client.get("/api/v1/followups", headers=auth()).json["items"]
    assert [f["kind"] for f in followups] == ["opportunity", "opt_out"]


def test_implausible_records_are_flagged(app, client):
    project(app, "c1", "c2", "c3")
    plan = create_plan(
        client,
        rrule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0",
        windows=[
            {"days": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"], "start": "09:00", "end": "18:00"}
        ],
        allow_holidays=True,
    )
    schedule(client, plan["id"], days=2)
    a, b, c = [calls_of(client, customer_id=x)[0]["id"] for x in ("c1", "c2", "c3")]
    night = datetime.now(UTC).astimezone().replace(microsecond=0)
    night = (datetime.now(UTC) - timedelta(days=1)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )  # 23:00 in Hong Kong
    outcome(
        client,
        a,
        {
            **{k: v for k, v in REACHED.items() if k != "answers"},
            "duration_seconds": 600,
            "completed_at": night.isoformat(),
        },
    )
    outcome(
        client,
        b,
        {
            "outcome": "interested",
            "duration_seconds": 600,
            "completed_at": (night - timedelta(minutes=5)).isoformat(),
        },
    )
    outcome(
        client,
        c,
        {
            "outcome": "interested",
            "duration_seconds": 3,
            "completed_at": (night - timedelta(hours=3)).isoformat(),
        },
    )
    flags = client.get("/api/v1/quality-flags", headers=auth("analyst")).json["items"]
    rules = {(f["call_id"], f["rule"]) for f in flags}
    assert (a, "outside_window") in rules and (b, "overlap") in rules
    assert (c, "duration") in rules
    # Each call's event names the rules listed for it, each once.
    events = {e["call_id"]: sorted(e["quality_flags"]) for e in payloads(app, "call.completed")}
    assert events == {x: sorted({r for i, r in rules if i == x}) for x in (a, b, c)}
    assert events[c] == ["duration", "outside_window"]
    only = client.get(
        "/api/v1/quality-flags", headers=auth(), query_string={"rule": "overlap"}
    ).json["items"]
    assert {f["rule"] for f in only} == {"overlap"}


def test_a_conversation_short_of_the_checklist_is_flagged_and_flags_travel_on_the_event(
    app, client, assigned
):
    first, second, third = (c["id"] for c in assigned)
    hours = [(datetime.now(UTC) - timedelta(hours=h)).isoformat() for h in (3, 2, 1)]
    r = outcome(
        client,
        first,
        {
            "outcome": "interested",
            "duration_seconds": 120,
            "answers": {"needs": "A bigger plan"},
            "completed_at": hours[0],
        },
        as_agent("alice"),
    )
    assert r.status_code == 201, r.json
    # One upload, each item judged on its own: one short of the list and too short.
    r = client.post(
        "/api/v1/calls/outcomes",
        headers=as_agent("alice"),
        json={
            "outcomes": [
                {
                    "call_id": second,
                    "outcome": "sale_opportunity",
                    "duration_seconds": 4,
                    "completed_at": hours[1],
                },
                {
                    "call_id": third,
                    "outcome": "no_answer",
                    "duration_seconds": 20,
                    "completed_at": hours[2],
                },
            ]
        },
    )
    assert r.json["created"] == 2, r.json
    events = {e["call_id"]: e for e in payloads(app, "call.completed")}
    assert events[first]["quality_flags"] == ["checklist_incomplete"]
    assert events[first]["checklist_compliance"] == 0.5
    assert events[second]["quality_flags"] == ["duration", "checklist_incomplete"]
    assert events[third]["quality_flags"] == []
    flags = client.get(
        "/api/v1/quality-flags", headers=auth(), query_string={"rule": "checklist_incomplete"}
    ).json["items"]
    assert sorted((f["call_id"], f["agent_id"]) for f in flags) == sorted(
        [(first, "alice"), (second, "alice")]
    )
    assert "50% of the required" in next(f["detail"] for f in flags if f["call_id"] == first)


def test_too_many_calls_in_an_hour_are_flagged_in_bulk_and_one_by_one(app, client):
    project(app, *[f"c{i:02d}" for i in range(40)])
    plan = create_plan(client, rrule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0")
    schedule(client, plan["id"], days=1)
    ids = [c["id"] for c in calls_of(client)]
    base = datetime.now(UTC) - timedelta(hours=2)
    items = [
        {
            "call_id": call_id,
            "outcome": "no_answer",
            "duration_seconds": 20,
            "completed_at": (base + timedelta(seconds=90 * i)).isoformat(),
        }
        for i, call_id in enumerate(ids[:31])
    ]
    r = client.post("/api/v1/calls/outcomes", headers=auth(), json={"outcomes": items})
    assert r.json["created"] == 31
    flags = client.get("/api/v1/quality-flags", headers=auth(), query_string={"rule": "rate"}).json[
        "items"
    ]
    assert [f["call_id"] for f in flags] == [ids[30]]  # the 31st within the hour
    late = (base + timedelta(seconds=90 * 31)).isoformat()
    outcome(client, ids[31], {"outcome": "no_answer", "duration_seconds": 20, "completed_at": late})
    flags = client.get("/api/v1/quality-flags", headers=auth(), query_string={"rule": "rate"}).json[
        "items"
    ]
    assert [f["call_id"] for f in flags] == [ids[30], ids[31]]
    assert (
        client.get("/api/v1/quality-flags", headers=auth(), query_string={"rule": "overlap"}).json[
            "items"
        ]
        == []
    )


@pytest.mark.parametrize("assigned_to", [None, "alice"])
def test_an_overlap_past_the_first_page_of_candidates_is_found(
    service_app, database_url, assigned_to
):
    """Calls recorded out of order: twelve short calls that began after this one
    ended come first by end time, then the long one that began during it. The overlap
    is found past the first page of candidates, for the agent's assigned calls and for
    the unassigned calls it recorded, on both databases."""
    app = build_app(service_app, database_url)
    client = app.test_client()
    project(app, *(f"c{i:02d}" for i in range(14)))
    schedule(client, create_plan(client, rrule="FREQ=DAILY;BYHOUR=10;BYMINUTE=0")["id"], days=1)
    ids = [c["id"] for c in calls_of(client)][:14]
    if assigned_to:
        with app.extensions["rapport"].uow() as work:
            work.session.execute(update(Call).where(Call.id.in_(ids)).values(agent_id=assigned_to))
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)

    def record(call_id, ends_after: timedelta, seconds: int):
        body = {
            "outcome": "no_answer",
            "duration_seconds": seconds,
            "completed_at": (base + ends_after).isoformat(),
        }
        r = outcome(client, call_id, body, as_agent("alice"))
        assert r.status_code == 201, r.json

    for i, call_id in enumerate(ids[:12]):  # 10 s each, from three minutes on
        record(call_id, timedelta(minutes=3 + i), 10)
    record(ids[12], timedelta(minutes=20), 19 * 60)  # from minute one to twenty
    record(ids[13], timedelta(minutes=2), 120)  # minutes zero to two: the one asked
    flags = client.get(
        "/api/v1/quality-flags",
        headers=auth(),
        query_string={"rule": "overlap", "call_id": ids[13]},
    ).json["items"]
    assert [f["detail"] for f in flags] == [f"overlaps call {ids[12]} by the same agent"]


def test_one_outcome_reads_what_its_rules_need_in_two_statements(app, client):
    """The call, locked, with its customer, plan, plan version, agent and the agent's
    partner in one statement; the quality rules' look-ups in another. What they read
    is what the event carries: the partner's fee, the plan's checklist, the gaps."""
    project(app, "c1")
    with app.extensions["rapport"].uow() as work:
        work.session.execute(
            update(Customer).where(Customer.customer_id == "c1").values(gaps=["email"])
        )
    plan = create_plan(client, checklist=CHECKLIST, customer_ids=["c1"], segment=None)
    schedule(client, plan["id"], days=7)
    partner = add_partner(client, fee="31.50")
    add_agent(client, "pat", kind="partner", partner_id=partner["id"])
    assign(client)
    call_id = calls_of(client)[0]["id"]
    assert calls_of(client)[0]["agent_id"] == "pat"
    selects = []

    def seen(_conn, _cursor, statement, *_):
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    engine = app.extensions["rapport"].db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        r = outcome(
            client,
            call_id,
            {**REACHED, "confirmed_fields": {"email": "a@example.com"}},
            as_agent("pat"),
        )
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert r.status_code == 201, r.json
    assert len(selects) == 2, selects
    (completed,) = payloads(app, "call.completed")
    assert completed["cost"] == "31.50" and completed["partner_id"] == partner["id"]
    assert completed["checklist_compliance"] == 1.0
    assert completed["agent_kind"] == "partner" and completed["segment"] == "smb"
