"""What each report says about a small, known set of events."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.reporting import catalogue
from tests.reporting.generate import commerce_stream, event

HK = ZoneInfo("Asia/Hong_Kong")
NOW = datetime.now(UTC)


def report(dispatcher, name, **args):
    return catalogue.report(name, dispatcher.uow, HK, args)


def done(cid, call_id, when, outcome="reached", **extra):
    return event(
        "call.completed",
        when,
        call_id=call_id,
        customer_id=cid,
        channel="phone",
        outcome=outcome,
        completed_at=when,
        segment="retail",
        **extra,
    )


def test_follow_ups_propose_actions_with_reasons(dispatcher):
    old = NOW - timedelta(days=45)
    for e in (
        done("keen", "k1", old, propensity=85),
        done("cross", "x1", NOW - timedelta(days=2), outcome="complaint"),
        done("gone", "g1", NOW - timedelta(days=2), outcome="complaint"),
        event("customer.opted_out", NOW, customer_id="gone", opted_out_at=NOW),
        event(
            "followup.created",
            old,
            followup_id="f1",
            kind="callback",
            customer_id="later",
            source_call_id="l1",
            due_at=old + timedelta(days=1),
            created_at=old,
            reason="call after the holidays",
        ),
    ):
        dispatcher.dispatch(e)
    actions = report(dispatcher, "follow-ups", days=30, min_propensity=70)["actions"]
    assert [(a["customer_id"], a["action"]) for a in actions] == [
        ("cross", "resolve_complaint"),
        ("keen", "call_now"),
        ("later", "followup_due"),
    ]
    assert "propensity 85" in actions[1]["reason"] and "45 days" in actions[1]["reason"]
    assert "call after the holidays" in actions[2]["reason"]


def test_coverage_counts_from_the_due_time_until_a_qualifying_contact(dispatcher):
    due = NOW - timedelta(days=10)
    dispatcher.dispatch(
        event(
            "call.missed",
            due + timedelta(hours=1),
            call_id="m1",
            customer_id="late",
            channel="phone",
            due_at=due,
            missed_at=due + timedelta(hours=1),
            segment="retail",
        )
    )
    for call_id, at in (("m1", due), ("m2", NOW + timedelta(days=5))):  # after the miss
        dispatcher.dispatch(
            event(
                "call.scheduled",
                due,
                call_id=call_id,
                plan_id="p",
                customer_id="late",
                channel="phone",
                due_at=at,
                max_gap_days=7,
            )
        )
    body = report(dispatcher, "coverage")  # never contacted: due at its first call
    assert [(c["customer_id"], round(c["days_overdue"])) for c in body["customers"]] == [
        ("late", 10)
    ]
    dispatcher.dispatch(done("late", "c1", NOW - timedelta(days=1), outcome="no_answer"))
    assert report(dispatcher, "coverage")["overdue_customers"] == 1  # no contact yet
    dispatcher.dispatch(done("late", "c2", NOW - timedelta(days=9)))  # due 7 days after
    assert [
        (c["customer_id"], round(c["days_overdue"]))
        for c in report(dispatcher, "coverage")["customers"]
    ] == [("late", 2)]
    dispatcher.dispatch(done("late", "c3", NOW - timedelta(hours=1)))
    assert report(dispatcher, "coverage")["overdue_customers"] == 0


def test_no_customer_is_overdue_without_a_known_plan_policy(dispatcher):
    dispatcher.dispatch(
        event(
            "call.scheduled",
            NOW,
            call_id="s1",
            plan_id="p",
            customer_id="old",
            channel="phone",
            due_at=NOW - timedelta(days=30),
        )
    )
    assert report(dispatcher, "coverage")["overdue_customers"] == 0


def test_an_assignment_moves_the_planned_call_whichever_comes_first(dispatcher):
    due = datetime(2025, 5, 5, 2, tzinfo=UTC)
    scheduled = [
        event(
            "call.scheduled",
            due,
            call_id=f"a{n}",
            plan_id="p",
            customer_id="c",
            channel="visit",
            due_at=due,
            segment="sme",
        )
        for n in range(2)
    ]
    assigned = [
        event(
            "call.assigned",
            due,
            call_id=f"a{n}",
            customer_id="c",
            agent_id="x",
            agent_kind="partner",
            partner_id="p1",
            team="out",
            assigned_at=due,
        )
        for n in range(2)
    ]
    for e in (scheduled[0], assigned[0], assigned[1], scheduled[1]):
        dispatcher.dispatch(e)
    day = {"start": due.date(), "end": due.date()}
    assert report(dispatcher, "activity", **day, partner="p1")["totals"]["planned"] == 2
    assert report(dispatcher, "activity", **day, agent_kind="staff")["totals"]["planned"] == 0
    groups = report(dispatcher, "activity", **day, group_by="channel")["groups"]
    assert [(g["key"], g["planned"]) for g in groups] == [("visit", 2)]


def test_sales_funnel_pipeline_and_cycle(dispatcher):
    for e in commerce_stream():
        dispatcher.dispatch(e)
    body = report(dispatcher, "sales", currency="HKD")
    pipeline = {p["stage"]: (p["deals"], str(p["value"])) for p in body["pipeline"]}
    assert pipeline["lead"] == (1, "250.00") and pipeline["won"] == (1, "600.00")
    assert (body["funnel"]["deals_from_calls"], body["funnel"]["won_from_calls"]) == (1, 1)
    assert body["cycle"] == {"n": 1, "mean_days": 10.0}
    lead = next(s for s in body["stages"] if s["stage"] == "lead")
    assert (lead["left"], lead["conversion"], lead["mean_days_in_stage"]) == (1, 1.0, 3.0)
    quality = report(dispatcher, "data-quality")
    assert (quality["open"], quality["resolved"], quality["customers_with_gaps"]) == (1, 1, 1)
    assert (
        next(r for r in quality["rules"] if r["rule"] == "missing_phone")["mean_hours_to_resolve"]
        == 5.0
    )
    pnl = report(dispatcher, "pnl", currency="HKD")["totals"]
    # 100 net − 20 returned − (60 − 12) goods = 32; less 9 allocated; the cancelled
    # sale and its goods net to nothing.
    assert (str(pnl["margin"]), str(pnl["net_contribution"]), pnl["sales"]) == ("32.00", "23.00", 1)


def test_erasure_scrubs_the_event_log_and_a_rebuild_still_matches(dispatcher):
    from sqlalchemy import select

    from services.reporting import rebuild
    from services.reporting.tables import CustomerDim, EventLog

    when = NOW - timedelta(days=3)
    for e in (
        event(
            "customer.registered",
            when,
            customer_id="pii",
            name="Chan Tai Man",
            phone="+85291234567",
            segment="retail",
            registered_at=when,
        ),
        done(
            "pii",
            "p1",
            when,
            notes="wife called Mei",
            referrals=[{"name": "Lee Siu Ming", "phone": "+85298765432"}],
        ),
        done("other", "o1", when, notes="keep me"),
        event("customer.erased", NOW, customer_id="pii", erased_at=NOW),
    ):
        dispatcher.dispatch(e)
    with dispatcher.uow.reader() as session:
        logged = " ".join(session.scalars(select(EventLog.payload)))
        assert session.get(CustomerDim, "pii").name == "[erased]"
    for personal in ("Chan Tai Man", "91234567", "Mei", "Lee Siu Ming", "98765432"):
        assert personal not in logged
    assert "keep me" in logged  # other customers are untouched
    assert rebuild.rebuild(dispatcher.uow.db, HK, check=True)[1] == []
