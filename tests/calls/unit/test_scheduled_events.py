"""The ``call.scheduled`` envelopes a scheduling chunk writes: exactly what the
contract makes, for awkward values too, and through the contract if they differ."""
import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from services.calls import scheduled_events
from shared import context
from shared.events import make_event, parse_event
from shared.ids import ordered_ids

NOW = datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=timezone.utc)
SLOTS = [(NOW + timedelta(days=d), NOW + timedelta(days=d, hours=8)) for d in (1, 31)]
PLAN = SimpleNamespace(id="plan-1", channel="visit", version=3, purpose='say "hi"\\', priority=2,
                       rrule="FREQ=WEEKLY;BYDAY=MO;BYHOUR=10", timezone="Asia/Hong_Kong",
                       starts_at=NOW)
AWKWARD = ['c1', 'qu"ote', 'back\\slash', 'tab\there', 'new\nline', 'caf\u00e9 \u5ba2\u6236',
           '{event_id}', '\x00call_id']


def rows(calls, producer="calls"):
    ids = ordered_ids(len(calls))
    return ids, list(scheduled_events.outbox_rows(producer, PLAN, NOW, "created", SLOTS,
                                                  calls, ids))


def contract_body(event_id, call, correlation=None):
    call_id, customer_id, segment, slot = call
    event = make_event("call.scheduled", {
        "call_id": call_id, "plan_id": PLAN.id, "customer_id": customer_id,
        "channel": PLAN.channel, "due_at": SLOTS[slot][0], "segment": segment,
        "plan_version": PLAN.version, "purpose": PLAN.purpose, "priority": PLAN.priority,
        "window_end": SLOTS[slot][1], "max_gap_days": 7}, producer="calls", occurred_at=NOW)
    wanted = json.loads(event.to_json())
    wanted["event_id"] = event_id
    wanted["correlation_id"] = correlation or event_id
    return wanted


def test_every_envelope_is_the_contracts_own(monkeypatch):
    calls = [(f"call-{i}", customer, segment, i % 2) for i, (customer, segment) in
             enumerate((c, s) for c in AWKWARD for s in ("smb", None, 'se"g'))]
    made = []
    monkeypatch.setattr(scheduled_events, "make_event",
                        lambda *a, **k: made.append(1) or make_event(*a, **k))
    ids, out = rows(calls)
    assert len(made) == 1  # only the check: the others were filled in
    for event_id, call, row in zip(ids, calls, out):
        assert row[:3] == (event_id, "call.scheduled", "call.scheduled.v1")
        assert row[4:] == ("created", "created", 0)
        assert json.loads(row[3]) == contract_body(event_id, call)
        assert parse_event(row[3]).payload["customer_id"] == call[1]


def test_the_request_correlation_and_causation_are_kept():
    tokens = context.correlation_id.set("req-7"), context.causation_id.set("cause-9")
    try:
        _, out = rows([("call-1", "c1", "smb", 0), ("call-2", "c2", "smb", 1)])
    finally:
        context.correlation_id.reset(tokens[0])
        context.causation_id.reset(tokens[1])
    for row in out:
        envelope = json.loads(row[3])
        assert (envelope["correlation_id"], envelope["causation_id"]) == ("req-7", "cause-9")


def test_a_template_that_drifts_from_the_contract_is_not_used(monkeypatch):
    monkeypatch.setattr(scheduled_events.Envelopes, "_template",
                        lambda self: '{{"event_id":{event_id},"stale":true}}')
    calls = [("call-1", "c1", "smb", 0), ("call-2", 'c"2', None, 1)]
    _, out = rows(calls)
    for call, row in zip(calls, out):
        envelope = json.loads(row[3])
        assert "stale" not in envelope
        wanted = contract_body(envelope["event_id"], call)
        assert envelope == wanted and row[0] == envelope["event_id"]


def test_a_payload_the_contract_refuses_is_never_written():
    plan = SimpleNamespace(**{**vars(PLAN), "channel": "pigeon"})
    with pytest.raises(ValueError, match="contract"):
        list(scheduled_events.outbox_rows("calls", plan, NOW, "created", SLOTS,
                                          [("call-1", "c1", "smb", 0)], ["e1"]))
