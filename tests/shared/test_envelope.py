"""What a consumer accepts as an event and what it refuses (dead-letters) for good."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shared.events import EnvelopeError, make_event, parse_event

AT = datetime(2026, 3, 1, 4, 5, 6, tzinfo=UTC)


def completed(**overrides):
    return make_event(
        "call.completed",
        {
            "call_id": "call-1",
            "customer_id": "c1",
            "channel": "phone",
            "outcome": "reached",
            "completed_at": AT,
            "cost": Decimal("10.50"),
            **overrides,
        },
        producer="calls",
    )


def wire(event=None, **envelope) -> dict:
    data = json.loads((event or completed()).to_json())
    data.update(envelope)
    return data


def test_an_event_comes_back_as_it_was_made():
    event = completed(referrals=[{"name": "Lee", "phone": None}])
    parsed = parse_event(event.to_json().encode())
    assert parsed == event
    assert parsed.payload["cost"] == Decimal("10.50") and parsed.payload["duration_seconds"] == 0
    assert parsed.wire_payload == json.loads(event.to_json())["payload"]


def test_event_ids_are_time_ordered():
    ids = [uuid.UUID(completed().event_id) for _ in range(50)]
    assert all(i.version == 7 for i in ids) and ids == sorted(ids)


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"",
        b"[1, 2]",
        b'"text"',
        b"{}",
        "\ufeff{}",
        pytest.param(json.dumps(wire(event_id="not-a-uuid")), id="event_id"),
        pytest.param(json.dumps(wire(event_type="CallCompleted")), id="event_type"),
        pytest.param(json.dumps(wire(event_version=0)), id="event_version-0"),
        pytest.param(json.dumps(wire(event_version=True)), id="event_version-true"),
        pytest.param(json.dumps(wire(occurred_at="yesterday")), id="occurred_at"),
        pytest.param(json.dumps(wire(payload=[1])), id="payload"),
        pytest.param(
            json.dumps({k: v for k, v in wire().items() if k != "producer"}), id="no-producer"
        ),
    ],
)
def test_a_malformed_envelope_is_refused(body):
    with pytest.raises(EnvelopeError, match="malformed envelope"):
        parse_event(body)


def test_a_payload_that_breaks_its_contract_is_refused_with_the_contracts_messages():
    data = wire()
    data["payload"].update(outcome="teleported", satisfaction="great")
    del data["payload"]["customer_id"]
    with pytest.raises(EnvelopeError, match=r"payload breaks call.completed contract") as raised:
        parse_event(json.dumps(data))
    # the contract's own words, naming a field that is wrong
    assert raised.value.reason == "bad_payload"
    assert any(
        f"`$.{name}`" in str(raised.value) or f"`{name}`" in str(raised.value)
        for name in ("outcome", "satisfaction", "customer_id")
    )
    for bad in (
        {"cost": "NaN"},
        {"cost": "-Infinity"},
        {"duration_seconds": -1},
        {"duration_seconds": "1.5"},
        {"completed_at": "2026-03-01T04:05:06"},
        {"referrals": [{"phone": "1"}]},
        {"opt_out_notice_given": "maybe"},
    ):
        data = wire()
        data["payload"].update(bad)
        with pytest.raises(EnvelopeError, match="contract"):
            parse_event(json.dumps(data))


def test_what_marshmallow_accepts_loosely_is_still_accepted():
    data = wire(event_version="1", occurred_at="2026-03-01T04:05:06")
    data["payload"].update(
        duration_seconds=42.9, satisfaction="4", opt_out_notice_given="yes", cost=10
    )
    event = parse_event(json.dumps(data))
    assert (event.event_version, event.occurred_at) == (1, AT)
    assert (
        event.payload["duration_seconds"],
        event.payload["satisfaction"],
        event.payload["opt_out_notice_given"],
        event.payload["cost"],
    ) == (42, 4, True, Decimal("10"))


def test_json_that_only_the_standard_library_reads_is_still_read():
    data = wire()
    data["payload"]["confirmed_fields"] = {"score": math.nan, "big": 2**80}
    for body in (
        json.dumps(data).encode(),
        json.dumps(data).encode("utf-16"),
        json.dumps(data).encode("utf-8-sig"),
    ):
        confirmed = parse_event(body).payload["confirmed_fields"]
        assert math.isnan(confirmed["score"]) and confirmed["big"] == 2**80


def test_an_event_type_without_a_contract_is_kept_as_it_came():
    data = wire(event_type="call.teleported", payload={"anything": ["goes", 1]})
    event = parse_event(json.dumps(data))
    assert event.payload == {"anything": ["goes", 1]} and event.wire_payload is None


HOSTILE = {
    "deeply nested": b"[" * 5000,
    "deeply nested inside an envelope": json.dumps(wire()).encode()[:-1]
    + b',"x":'
    + b"[" * 5000
    + b"]" * 5000
    + b"}",
    "nested past orjson's limit, with NaN so json would be tried": b"[NaN,"
    + b"[" * 1100
    + b"]" * 1101,
    "binary": bytes(range(256)) * 4,
    "not UTF-8": json.dumps(wire(producer="caf\u00e9"), ensure_ascii=False).encode("latin-1"),
    "a lone surrogate": b'{"event_id": "\xed\xa0\x80"}',
    "valid JSON of the wrong shape": b'{"events": [1, 2, 3]}',
    "a JSON number": b"12345678901234567890123456789",
    "null": b"null",
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_body_is_refused_as_malformed_not_raised(body):
    with pytest.raises(EnvelopeError, match="malformed envelope") as raised:
        parse_event(body)
    assert raised.value.reason in {"not_json", "bad_envelope"}


def test_a_body_over_the_cap_is_refused_before_it_is_parsed(monkeypatch):
    from shared.events import envelope

    decoded = []
    monkeypatch.setattr(envelope, "decode", decoded.append)
    body = b'{"pad": "' + b"x" * envelope.MAX_BODY_BYTES + b'"}'
    with pytest.raises(EnvelopeError, match="over the") as raised:
        parse_event(body)
    assert raised.value.reason == "too_large" and decoded == []


def test_json_still_takes_what_orjson_refuses_when_it_is_shallow():
    data = wire()
    data["payload"]["notes"] = "ok"
    body = json.dumps(data).encode("utf-16")  # orjson reads UTF-8 only
    assert parse_event(body).payload["notes"] == "ok"


def test_nesting_is_counted_outside_strings_only():
    from shared.events.decoding import nesting_depth

    assert nesting_depth('{"a": [[1], {"b": "[[[[\\"]]"}]}') == 3
    assert nesting_depth("[" * 5000) == 5000
