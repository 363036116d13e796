"""The calls service's part of a data-subject export, from its own tables: a
customer's scheduled, cancelled and completed calls (with checklist answers), an
assignment, a partner's read of their data, their consents, the calls of a profile
merged into them, and nothing of anyone else."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.calls import config
from services.calls.calls.tables import Call
from services.calls.customers.tables import Consent, Customer
from services.calls.db import Inbox, Outbox
from services.calls.handlers import subscriptions
from services.calls.partner.tables import PartnerRead
from services.calls.people.tables import Assignment
from services.calls.plans.tables import CallPlan
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from shared.events import make_event

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def dispatcher(sqlite_url):
    migrations.upgrade(sqlite_url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": sqlite_url, "DEV_MODE": "1"})
    return build_dispatcher(settings, Database(sqlite_url), Outbox, Inbox, subscriptions(settings))


def requested(ids=("c1",)):
    return make_event(
        "subject.export_requested",
        {"export_id": "x1", "customer_id": ids[0], "customer_ids": list(ids), "requested_at": NOW},
        producer="customer",
    )


def contributions(dispatcher) -> list[dict]:
    with dispatcher.uow.reader() as s:
        return [
            json.loads(row.body)["payload"]
            for row in s.scalars(
                select(Outbox)
                .where(Outbox.event_type == "subject.export_contributed")
                .order_by(Outbox.id)
            )
        ]


def call(customer_id, hours, **kw):
    return Call(
        id=f"{customer_id}-{hours}",
        plan_id="p1",
        customer_id=customer_id,
        channel="phone",
        due_at=NOW + timedelta(hours=hours),
        priority=5,
        purpose="service",
        **kw,
    )


def seed(dispatcher):
    with dispatcher.uow() as work:
        s = work.session
        s.add(
            Customer(
                customer_id="c1",
                name="Chan Tai Man",
                phone="+85291234567",
                segment="smb",
                updated_at=NOW,
            )
        )
        s.add(
            Consent(
                customer_id="c1",
                channel="phone",
                purpose="marketing",
                status="withdrawn",
                changed_at=NOW,
            )
        )
        s.add(
            CallPlan(
                id="p1",
                name="SMB check-in",
                channel="phone",
                rrule="FREQ=DAILY",
                timezone="Asia/Hong_Kong",
                starts_at=NOW,
                priority=5,
            )
        )
        s.flush()
        s.add_all(
            [
                call("c1", 1, partner_id="pa", agent_id="ag"),
                call("c1", 2, status="cancelled", cancel_reason="opted_out"),
                call(
                    "c1",
                    -3,
                    status="completed",
                    outcome="reached",
                    satisfaction=4,
                    notes="asked about the new plan",
                    answers={"budget": "yes", "size": 12},
                    completed_at=NOW - timedelta(hours=3),
                    completed_by="agent-1",
                ),
                call("c0", -5, status="completed", outcome="busy", completed_at=NOW),
                call("c9", 1),
            ]
        )
        s.add(
            Assignment(
                call_id="c1-1",
                agent_id="ag",
                partner_id="pa",
                mode="auto",
                reason="skills match",
                decided_by="system",
                decided_at=NOW,
            )
        )
        s.add(
            PartnerRead(
                partner_id="pa",
                subject="partner-user",
                call_id="c1-1",
                customer_id="c1",
                fields="name,phone",
                endpoint="read",
                read_at=NOW,
            )
        )
        s.add(
            PartnerRead(
                partner_id="pa",
                subject="partner-user",
                call_id="c9-1",
                customer_id="c9",
                fields="name,phone",
                endpoint="read",
                read_at=NOW,
            )
        )


def test_a_customers_calls_assignments_and_partner_reads_are_contributed(dispatcher):
    seed(dispatcher)
    event = requested(ids=("c1", "c0"))  # c0 was merged into c1
    assert dispatcher.dispatch(event)
    assert dispatcher.dispatch(event)  # redelivered: answered once
    [answer] = contributions(dispatcher)
    assert (
        answer["export_id"],
        answer["customer_id"],
        answer["service"],
        answer["part"],
        answer["parts"],
    ) == ("x1", "c1", "calls", 1, 1)
    found = answer["sections"]
    calls = {c["id"]: c for c in found["calls"]}
    assert set(calls) == {"c1-1", "c1-2", "c1--3", "c0--5"}
    assert (
        calls["c1-1"]["status"],
        calls["c1-1"]["partner_id"],
        calls["c1-1"]["plan_name"],
        calls["c1-1"]["due_at"],
    ) == ("scheduled", "pa", "SMB check-in", (NOW + timedelta(hours=1)).isoformat())
    assert (calls["c1-2"]["status"], calls["c1-2"]["cancel_reason"]) == ("cancelled", "opted_out")
    done = calls["c1--3"]
    assert (
        done["status"],
        done["outcome"],
        done["satisfaction"],
        done["notes"],
        done["answers"],
    ) == ("completed", "reached", 4, "asked about the new plan", {"budget": "yes", "size": 12})
    assert [
        (a["call_id"], a["agent_id"], a["partner_id"], a["reason"]) for a in found["assignments"]
    ] == [("c1-1", "ag", "pa", "skills match")]
    assert [
        (r["partner_id"], r["call_id"], r["fields"], r["read_at"]) for r in found["partner_reads"]
    ] == [("pa", "c1-1", "name,phone", NOW.isoformat())]
    assert [(c["channel"], c["purpose"], c["status"]) for c in found["consents"]] == [
        ("phone", "marketing", "withdrawn")
    ]
    assert [(c["customer_id"], c["name"]) for c in found["customer"]] == [("c1", "Chan Tai Man")]


def test_an_erased_customers_calls_go_as_the_anonymous_skeleton(dispatcher):
    seed(dispatcher)
    dispatcher.dispatch(
        make_event("customer.erased", {"customer_id": "c1", "erased_at": NOW}, producer="customer")
    )
    dispatcher.dispatch(requested())
    [answer] = contributions(dispatcher)
    found = answer["sections"]
    assert {c["id"] for c in found["calls"]} == {"c1-1", "c1-2", "c1--3"}
    done = next(c for c in found["calls"] if c["id"] == "c1--3")
    assert (done["outcome"], done["notes"], done["answers"]) == ("reached", None, None)
    assert [(c["name"], c["phone"]) for c in found["customer"]] == [(None, None)]
