"""The event log as a window writes it: one time of receipt for a window's events,
payloads as compact JSON that parses back to the wire payload."""

import json

from sqlalchemy import select

from services.reporting.events import event_log
from services.reporting.tables import EventLog
from tests.reporting.events import completed, sale


def test_a_windows_events_are_received_at_one_time(dispatcher):
    window = [
        completed(f"2025-03-0{day}T10:00", "reached", f"call-{day}", f"c{day}")
        for day in range(1, 6)
    ]
    window.append(sale("c1", "100.00", "60.00"))
    dispatcher.dispatch_batch(window)
    dispatcher.dispatch(completed("2025-03-07T10:00", "reached", "call-9", "c9"))
    with dispatcher.uow.reader() as session:
        received = dict(session.execute(select(EventLog.event_id, EventLog.received_at)).all())
    assert len({received[e.event_id] for e in window}) == 1
    assert len(set(received.values())) == 2  # the later window at its own time


def test_payloads_are_compact_json_of_the_wire_payload(dispatcher):
    event = sale("c1", "100.00", "60.00")
    dispatcher.dispatch(event)
    with dispatcher.uow.reader() as session:
        text = session.scalar(select(EventLog.payload))
    assert ", " not in text and '": ' not in text
    assert json.loads(text) == event_log.wire_payload(event)


def test_what_orjson_refuses_is_written_by_json():
    payload = {"n": 2**70, "name": "陳大文"}
    assert event_log.dumps(payload) == json.dumps(payload, separators=(",", ":"))
    assert json.loads(event_log.dumps({"name": "陳大文", "n": 1})) == {"name": "陳大文", "n": 1}
