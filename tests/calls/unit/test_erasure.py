"""Erasure in the calls service: after ``customer.erased`` no store here holds the
person's data (the projection, the calls' notes, the outbox's sent events, the stored
idempotent answers: a replay is 410 Gone and runs nothing again); and every partner
read is audited, a replayed answer included."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from services.calls.customers.tables import Customer
from services.calls.db import IdempotencyKey, Outbox
from services.calls.partner.tables import PartnerRead
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    calls_of,
    create_plan,
    deliver,
    outbox,
    project,
    schedule,
)
from tests.conftest import auth, make_token

PHONE = "+85291234567"
NOTES = "Mrs Chan's son Wai Ming answers after 6pm"
OUTCOME = {
    "outcome": "reached",
    "satisfaction": 4,
    "propensity": 50,
    "duration_seconds": 120,
    "notes": NOTES,
    "referrals": [{"name": "Lee Siu Ming", "phone": "+85298765432"}],
}
EMAIL = "chan.tai.man@example.hk"
ADDRESS = {"line1": "12 Nathan Road", "district": "Yau Tsim Mong", "country": "HK"}
PERSONAL = (
    "Customer c1",
    PHONE,
    NOTES,
    "Wai Ming",
    "Lee Siu Ming",
    "98765432",
    EMAIL,
    "Nathan Road",
    "0.731",
)


def partner_headers(partner_id, key):
    return {
        "Authorization": f"Bearer {make_token('partner', 'supervisor', partner_id)}",
        "Idempotency-Key": key,
    }


@pytest.fixture
def world(app, client):
    """Customers c1 and c2 with calls held by partners; two of c1's calls."""
    project(app, "c1", "c2")
    with app.extensions["rapport"].uow() as work:
        work.session.execute(
            update(Customer)
            .where(Customer.customer_id == "c1")
            .values(
                phone=PHONE,
                email=EMAIL,
                address=ADDRESS,
                relationship_score=0.731,
                satisfaction_trend=0.5,
            )
        )
    a, b = add_partner(client, "A-Call"), add_partner(client, "B-Call", fee="20")
    add_agent(client, "agent-a", kind="partner", partner_id=a["id"])
    add_agent(client, "agent-b", kind="partner", partner_id=b["id"])
    schedule(client, create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=10")["id"], days=14)
    assign(client)
    calls = [c for c in calls_of(client) if c["customer_id"] == "c1"]
    mine = next(c for c in calls if c["partner_id"] == a["id"])
    other = next(c for c in calls if c["id"] != mine["id"])
    return {"a": a, "mine": mine, "other": other}


def partner_outcome(client, world, key="up-1"):
    return client.post(
        f"/api/v1/partner/calls/{world['mine']['id']}/outcome",
        json=OUTCOME,
        headers=partner_headers(world["a"]["id"], key),
    )


def manager_outcome(client, world, key="mgr-1"):
    return client.post(
        f"/api/v1/calls/{world['other']['id']}/outcome",
        json=OUTCOME,
        headers={**auth(), "Idempotency-Key": key},
    )


def erase(app, customer_id="c1"):
    with app.extensions["rapport"].uow() as work:  # as the relay would have sent them
        work.session.execute(update(Outbox).values(sent_at=datetime.now(UTC)))
    deliver(app, "customer.erased", customer_id=customer_id, erased_at=datetime.now(UTC))


def audited(app, endpoint):
    with app.extensions["rapport"].db.reader() as s:
        return list(s.scalars(select(PartnerRead).where(PartnerRead.endpoint == endpoint)))


def test_a_partner_replay_of_an_outcome_is_audited_like_the_live_answer(app, client, world):
    first = partner_outcome(client, world)
    again = partner_outcome(client, world)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    assert again.json["customer"]["phone"] == PHONE  # the replay shows the customer again
    [live], [replayed] = audited(app, "outcome"), audited(app, "outcome-replay")
    assert (
        replayed.partner_id,
        replayed.subject,
        replayed.call_id,
        replayed.customer_id,
        replayed.fields,
    ) == (live.partner_id, live.subject, live.call_id, live.customer_id, live.fields)
    reads = client.get("/api/v1/partner-reads", headers=auth()).json["items"]
    assert [r["endpoint"] for r in reads if r["call_id"] == world["mine"]["id"]] == [
        "outcome",
        "outcome-replay",
    ]


def test_after_erasure_replayed_outcome_answers_are_gone_and_nothing_runs_again(app, client, world):
    assert partner_outcome(client, world).status_code == 201
    assert manager_outcome(client, world).status_code == 201
    completed = len(outbox(app, "call.completed"))
    erase(app)
    for replay in (partner_outcome(client, world), manager_outcome(client, world)):
        assert replay.status_code == 410
        assert replay.headers["Content-Type"] == "application/problem+json"
        assert "erased" in replay.json["detail"]
        assert not any(value in replay.get_data(as_text=True) for value in PERSONAL)
    assert len(outbox(app, "call.completed")) == completed
    assert audited(app, "outcome-replay") == []  # a 410 shows no one


def test_erasure_leaves_no_personal_value_in_any_calls_table_or_sent_event(app, client, world):
    partner_outcome(client, world)
    manager_outcome(client, world)
    erase(app)
    with app.extensions["rapport"].db.reader() as s:
        dump = " ".join(
            str(tuple(row))
            for table in ("customers", "calls", "outbox", "idempotency_keys", "partner_reads")
            for row in s.execute(select(Customer.metadata.tables[table]))
        )
        kept = s.get(Customer, "c2")
        assert kept.name == "Customer c2"  # others are untouched
        gone = s.get(Customer, "c1")
        assert (gone.email, gone.address, gone.relationship_score, gone.satisfaction_trend) == (
            None,
            None,
            None,
            None,
        )
        assert (
            s.scalar(
                select(func.count()).select_from(IdempotencyKey).where(IdempotencyKey.status == 410)
            )
            == 2
        )
    assert not [value for value in PERSONAL if value in dump]
    assert "c1" in dump  # the anonymous skeleton stays: ids, outcomes, the audit
    assert [p["outcome"] for p in map(_payload, outbox(app, "call.completed"))] == [
        "reached",
        "reached",
    ]


def test_an_erasure_reaches_the_projections_of_profiles_merged_into_the_customer(app):
    project(app, "c1", "c9")
    deliver(
        app, "customer.erased", customer_id="c1", erased_at=datetime.now(UTC), merged_ids=["c9"]
    )
    with app.extensions["rapport"].db.reader() as s:
        assert [
            (c.name, c.phone, c.lifecycle_status)
            for c in s.scalars(select(Customer).order_by(Customer.customer_id))
        ] == [(None, None, "erased")] * 2


def _payload(row):
    import json

    return json.loads(row.body)["payload"]


def test_a_profile_event_arriving_after_the_erasure_does_not_bring_the_person_back(app):
    from tests.calls.helpers import register

    erased_at = datetime.now(UTC)
    deliver(app, "customer.erased", customer_id="c7", erased_at=erased_at)
    earlier = erased_at.replace(year=erased_at.year - 1)
    register(app, "c7", phone=PHONE)  # a redelivered registration
    deliver(
        app,
        "customer.updated",
        at=earlier,
        customer_id="c7",
        segment="smb",
        name="Chan Tai Man",
        changes={"phone": {"old": None, "new": PHONE}},
    )
    with app.extensions["rapport"].db.reader() as s:
        c = s.get(Customer, "c7")
        assert (c.name, c.phone, c.lifecycle_status) == (None, None, "erased")
