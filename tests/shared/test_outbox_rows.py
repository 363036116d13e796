"""The outbox rows every event is written as (``shared.messaging.outbox``), one at a
time or a scheduling run's worth: exactly what the contract makes, for awkward
values too; the request's correlation kept; a payload the contract refuses never
written; made as they are read."""

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from shared import context
from shared.events import make_event, parse_event
from shared.messaging import outbox

NOW = datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC)
SLOTS = [(NOW + timedelta(days=d), NOW + timedelta(days=d, hours=8)) for d in (1, 31)]
PLAN = SimpleNamespace(id="plan-1", channel="visit", version=3, purpose='say "hi"\\', priority=2)
AWKWARD = [
    "c1",
    'qu"ote',
    "back\\slash",
    "tab\there",
    "new\nline",
    "caf\u00e9 \u5ba2\u6236",
    "{event_id}",
    "\x00call_id",
]


def payload(call, plan=PLAN):
    call_id, customer_id, segment, slot = call
    return {
        "call_id": call_id,
        "plan_id": plan.id,
        "customer_id": customer_id,
        "channel": plan.channel,
        "due_at": SLOTS[slot][0],
        "segment": segment,
        "plan_version": plan.version,
        "purpose": plan.purpose,
        "priority": plan.priority,
        "window_end": SLOTS[slot][1],
        "max_gap_days": 7,
    }


def rows(calls, producer="calls", plan=PLAN):
    return list(
        outbox.values(
            outbox.Origin.current(producer),
            "call.scheduled",
            (payload(call, plan) for call in calls),
            NOW,
            created="created",
        )
    )


def contract_body(event_id, call, correlation=None):
    event = make_event("call.scheduled", payload(call), producer="calls", occurred_at=NOW)
    wanted = json.loads(event.to_json())
    wanted["event_id"] = event_id
    wanted["correlation_id"] = correlation or event_id
    return wanted


def test_every_envelope_is_the_contracts_own():
    calls = [
        (f"call-{i}", customer, segment, i % 2)
        for i, (customer, segment) in enumerate(
            (c, s) for c in AWKWARD for s in ("smb", None, 'se"g')
        )
    ]
    out = rows(calls)
    assert len({row[0] for row in out}) == len(calls)
    for call, row in zip(calls, out):
        assert row[1:3] == ("call.scheduled", "call.scheduled.v1")
        assert row[4:] == ("created", "created", 0)
        assert json.loads(row[3]) == contract_body(row[0], call)
        assert parse_event(row[3]).payload["customer_id"] == call[1]


def test_the_request_correlation_and_causation_are_kept():
    tokens = context.correlation_id.set("req-7"), context.causation_id.set("cause-9")
    try:
        out = rows([("call-1", "c1", "smb", 0), ("call-2", "c2", "smb", 1)])
    finally:
        context.correlation_id.reset(tokens[0])
        context.causation_id.reset(tokens[1])
    for row in out:
        envelope = json.loads(row[3])
        assert (envelope["correlation_id"], envelope["causation_id"]) == ("req-7", "cause-9")


def test_a_payload_the_contract_refuses_is_never_written():
    plan = SimpleNamespace(**{**vars(PLAN), "channel": "pigeon"})
    with pytest.raises(ValueError, match="contract"):
        rows([("call-1", "c1", "smb", 0)], plan=plan)


def test_rows_are_made_as_the_payloads_are_read():
    read = []

    def payloads():
        for n in range(3):
            read.append(n)
            yield payload((f"call-{n}", "c1", None, 0))

    made = outbox.rows(outbox.Origin("calls"), "call.scheduled", payloads(), NOW)
    assert read == []
    first = next(made)
    assert read == [0] and first["event_type"] == "call.scheduled"
    ids = [row["event_id"] for row in [first, *made]]
    assert read == [0, 1, 2] and ids == sorted(ids)  # time-ordered ids


def test_emit_many_streams_its_payloads_in_chunks_of_one_transaction(tmp_path, monkeypatch):
    from sqlalchemy import func, select

    from shared.messaging import unit_of_work
    from tests.shared.messaging_app import Outbox, make_db

    db = make_db(f"sqlite:///{tmp_path / 'outbox.db'}")
    uow = unit_of_work.UnitOfWorkFactory(db, Outbox, "calls")
    monkeypatch.setattr(unit_of_work, "CHUNK", 4)
    written = []
    with uow() as work:
        work.session.connection()
        original = work._insert  # counting the statements it writes
        monkeypatch.setattr(
            work, "_insert", lambda model, rows: written.append(len(rows)) or original(model, rows)
        )
        calls = [(f"call-{n}", f"c{n}", None, n % 2) for n in range(10)]
        assert work.emit_many("call.scheduled", (payload(call) for call in calls)) == 10
        assert work.emit_many("call.scheduled", []) == 0
    assert written == [4, 4, 2]
    with uow.reader() as session:
        bodies = session.scalars(select(Outbox.body).order_by(Outbox.id)).all()
        assert session.scalar(select(func.count()).select_from(Outbox)) == 10
    assert [parse_event(b).payload["call_id"] for b in bodies] == [c[0] for c in calls]
