"""Erasure in reporting: ``customer.erased`` blanks every personal value of the
subject's logged events (a field change's values, an opt-out's contact point, a
finding that quotes them, a lost deal's reason) and of the customer dimension, and
a rebuild from the scrubbed log gives the figures the live models had."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.reporting import rebuild
from services.reporting.tables import EventLog
from tests.reporting.generate import event

HK = ZoneInfo("Asia/Hong_Kong")
NOW = datetime.now(UTC)
WHEN = NOW - timedelta(days=3)
PERSONAL = (
    "Chan Tai Man",
    "91234567",
    "59876543",
    "tm@example.com",
    "wife called Mei",
    "Lee Siu Ming",
    "98765432",
    "moved to Macau",
)
# Read models the erasure itself changes: the name, and that no one is to be contacted.
ERASED_HERE = {"customer_dim", "customer_facts"}


def stream():
    changes = {
        "phone": {"old": "+85291234567", "new": "+85259876543"},
        "email": {"old": None, "new": "tm@example.com"},
        "segment": {"old": "retail", "new": "smb"},
    }
    return [
        event(
            "customer.registered",
            WHEN,
            customer_id="pii",
            name="Chan Tai Man",
            phone="+85291234567",
            segment="retail",
            registered_at=WHEN,
        ),
        event(
            "customer.updated",
            WHEN + timedelta(hours=1),
            customer_id="pii",
            segment="smb",
            name="Chan Tai Man",
            changes=changes,
        ),
        event(
            "call.completed",
            WHEN + timedelta(hours=2),
            call_id="p1",
            customer_id="pii",
            channel="phone",
            outcome="reached",
            completed_at=WHEN + timedelta(hours=2),
            segment="smb",
            satisfaction=4,
            notes="wife called Mei",
            referrals=[{"name": "Lee Siu Ming", "phone": "+85298765432"}],
        ),
        event(
            "customer.opted_out",
            WHEN + timedelta(hours=3),
            customer_id="pii",
            channel="phone",
            contact_point="+85259876543",
            opted_out_at=WHEN + timedelta(hours=3),
        ),
        event(
            "customer.quality_flagged",
            WHEN + timedelta(hours=3),
            item_id="q1",
            customer_id="other",
            rule="shared_phone",
            segment="smb",
            detail="phone +85259876543 is on 2 customers: other, pii",
            flagged_at=WHEN + timedelta(hours=3),
        ),
        event(
            "deal.created",
            WHEN + timedelta(hours=4),
            deal_id="d1",
            customer_id="pii",
            stage="lead",
            created_at=WHEN + timedelta(hours=4),
        ),
        event(
            "deal.stage_changed",
            WHEN + timedelta(hours=5),
            deal_id="d1",
            customer_id="pii",
            from_stage="lead",
            to_stage="lost",
            lost_reason="moved to Macau",
            changed_at=WHEN + timedelta(hours=5),
        ),
        event(
            "call.completed",
            WHEN + timedelta(hours=2),
            call_id="o1",
            customer_id="other",
            channel="phone",
            outcome="reached",
            completed_at=WHEN + timedelta(hours=2),
            segment="smb",
            notes="keep me",
        ),
    ]


def logged(dispatcher) -> str:
    with dispatcher.uow.reader() as session:
        return " ".join(session.scalars(select(EventLog.payload)))


def figures(dispatcher) -> dict:
    with dispatcher.uow.reader() as session:
        return {
            name: rows
            for name, rows in rebuild.folded_snapshot(session).items()
            if name not in ERASED_HERE
        }


def test_erasure_blanks_every_personal_value_of_the_subjects_logged_events(dispatcher):
    for e in stream():
        dispatcher.dispatch(e)
    assert all(value in logged(dispatcher) for value in PERSONAL)
    dispatcher.dispatch(event("customer.erased", NOW, customer_id="pii", erased_at=NOW))
    text = logged(dispatcher)
    assert not [value for value in PERSONAL if value in text]
    assert "keep me" in text  # other customers are untouched
    with dispatcher.uow.reader() as session:
        [changes] = [
            json.loads(p)["changes"]
            for p in session.scalars(
                select(EventLog.payload).where(EventLog.event_type == "customer.updated")
            )
        ]
    # what is not personal stays, the segment move included
    assert changes == {
        "phone": {"old": None, "new": None},
        "email": {"old": None, "new": None},
        "segment": {"old": "retail", "new": "smb"},
    }


def test_a_rebuild_after_an_erasure_gives_the_same_figures(dispatcher):
    for e in stream():
        dispatcher.dispatch(e)
    before = figures(dispatcher)
    dispatcher.dispatch(event("customer.erased", NOW, customer_id="pii", erased_at=NOW))
    assert figures(dispatcher) == before
    assert rebuild.rebuild(dispatcher.uow.db, HK, check=True)[1] == []
    rebuild.rebuild(dispatcher.uow.db, HK)
    assert figures(dispatcher) == before
