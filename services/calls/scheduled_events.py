"""The ``call.scheduled`` outbox rows of a scheduling chunk, as driver-ready tuples.

A chunk's events differ only in a few values (ids, customer, segment, due time and
window end); the rest of each envelope is the plan's and the chunk's. So the
envelope's JSON is written once with holes for those values, and each event is
that text filled in: a few string joins instead of a payload dump, validation
and ``json.dumps`` each.

It cannot drift from the contract: the first event of every chunk is also built
through ``make_event`` (which dumps and validates it) and its envelope compared
with the filled-in one; any difference and every event of the chunk goes through
``make_event`` instead, slower but never wrong.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from json.encoder import encode_basestring_ascii as quoted

from services.calls.db import Outbox
from services.calls.plans import recurrence
from services.calls.plans.tables import CallPlan
from shared import context
from shared.events import make_event, routing_key

EVENT = "call.scheduled"
COLUMNS = ("event_id", "event_type", "routing_key", "body", "created_at", "available_at",
           "attempts")
Slot = tuple[datetime, datetime]
# (call id, customer id, segment, index of its slot)
Planned = tuple[str, str, str | None, int]
_HOLES = ("event_id", "correlation_id", "call_id", "customer_id", "due_at", "segment",
          "window_end")


def _json(value) -> str:
    # As ``Event.to_json`` writes a string or null (json.dumps, ASCII only).
    return "null" if value is None else quoted(value)


def _iso(value: datetime | None) -> str:
    return _json(value.isoformat() if value is not None else None)


class Envelopes:
    """The ``call.scheduled`` bodies of one plan's chunk, all occurring at ``now``."""

    def __init__(self, producer: str, plan: CallPlan, now: datetime, slots: list[Slot]):
        self.producer, self.plan, self.now = producer, plan, now
        self.correlation = context.correlation_id.get()
        self.slots = [(_iso(due), _iso(end)) for due, end in slots]
        self.policy = recurrence.longest_gap_days(plan.rrule, plan.timezone, plan.starts_at,
                                                  now)
        self._format = self._template()

    def _template(self) -> str:
        hole = {name: f"\x00{name}" for name in _HOLES}
        plan = self.plan
        envelope = {
            "event_id": hole["event_id"], "event_type": EVENT, "event_version": 1,
            "occurred_at": self.now.isoformat(), "producer": self.producer,
            "correlation_id": self.correlation or hole["correlation_id"],
            "causation_id": context.causation_id.get(),
            "payload": {"call_id": hole["call_id"], "plan_id": plan.id,
                        "customer_id": hole["customer_id"], "channel": plan.channel,
                        "due_at": hole["due_at"], "segment": hole["segment"],
                        "plan_version": plan.version, "purpose": plan.purpose,
                        "priority": plan.priority, "window_end": hole["window_end"],
                        "max_gap_days": self.policy}}
        text = json.dumps(envelope, separators=(",", ":")).replace("{", "{{").replace("}", "}}")
        # json.dumps writes each hole's NUL as \u0000, which no real value turns into.
        return re.sub(r'"\\u0000(%s)"' % "|".join(_HOLES), r"{\1}", text)

    def body(self, event_id: str, call: Planned) -> str:
        call_id, customer_id, segment, slot = call
        due, end = self.slots[slot]
        return self._format.format(
            event_id=f'"{event_id}"', correlation_id=f'"{event_id}"', call_id=f'"{call_id}"',
            customer_id=_json(customer_id), segment=_json(segment), due_at=due, window_end=end)

    def matches_contract(self, call: Planned, slots: list[Slot]) -> bool:
        event = make_event(EVENT, self.payload(call, slots), producer=self.producer,
                           occurred_at=self.now)
        return json.loads(self.body(event.event_id, call)) == json.loads(event.to_json())

    def payload(self, call: Planned, slots: list[Slot]) -> dict:
        call_id, customer_id, segment, slot = call
        plan = self.plan
        return {"call_id": call_id, "plan_id": plan.id, "customer_id": customer_id,
                "channel": plan.channel, "due_at": slots[slot][0], "segment": segment,
                "plan_version": plan.version, "purpose": plan.purpose,
                "priority": plan.priority, "window_end": slots[slot][1],
                "max_gap_days": self.policy}


def outbox_rows(producer: str, plan: CallPlan, now, created, slots: list[Slot],
                calls: list[Planned], event_ids: list[str]) -> Iterator[tuple]:
    """One outbox row (``COLUMNS``) per call, made as they are read; ``created`` is
    ``now`` in the driver's form, for ``created_at`` and ``available_at``."""
    if not calls:
        return iter(())
    envelopes = Envelopes(producer, plan, now, slots)
    key = routing_key(EVENT, 1)
    if not envelopes.matches_contract(calls[0], slots):
        return (_through_contract(envelopes, call, slots, created) for call in calls)
    body = envelopes.body
    return ((event_id, EVENT, key, body(event_id, call), created, created, 0)
            for event_id, call in zip(event_ids, calls))


def _through_contract(envelopes: Envelopes, call: Planned, slots: list[Slot],
                      created) -> tuple:
    event = make_event(EVENT, envelopes.payload(call, slots), producer=envelopes.producer,
                       occurred_at=envelopes.now)
    row = Outbox.row_for(event, envelopes.now)
    return (*(row[name] for name in COLUMNS[:4]), created, created, 0)
