"""The msgspec contracts accept and load what the marshmallow contracts they replaced
did (``legacy_contracts``, frozen): for every contract, a valid payload, each field
missing and each field set to an awkward value either loads to exactly what
marshmallow returned or is refused as marshmallow refused it, through the consumer's
own path (``parse_event``) and the producer's (``make_event``)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from marshmallow import Schema, ValidationError, fields, validate

from shared.events import CONTRACTS, EnvelopeError, make_event, parse_event
from shared.messaging import outbox
from tests.shared import legacy_contracts
from tests.shared.legacy_contracts import EnvelopeSchema

# Values of every JSON type and the awkward strings and numbers a producer might send.
ODD = [
    None,
    True,
    False,
    0,
    1,
    -1,
    7,
    2**70,
    1.5,
    -0.0,
    1e308,
    math.nan,
    math.inf,
    "",
    "x",
    "7",
    " 7 ",
    "1.50",
    "1e999",
    "NaN",
    "-Infinity",
    "sNaN",
    "1_000",
    "0x10",
    "2026-03-01",
    "2026-03-01T04:05:06",
    "2026-03-01T04:05:06+08:00",
    "2026-03-01T04:05:06Z",
    "2026-13-01T00:00:00+00:00",
    "20260301",
    "9f0b1a8e-8d51-4a8f-9d43-3c1c1f8f5b11",
    "{9F0B1A8E-8D51-4A8F-9D43-3C1C1F8F5B11}",
    "HKD",
    "hkd",
    "phone",
    "reached",
    "true",
    "1",
    [],
    ["x"],
    [{}],
    {},
    {"a": 1},
    {"old": "a", "new": None},
]
ENVELOPE = {
    "event_id": "9f0b1a8e-8d51-4a8f-9d43-3c1c1f8f5b11",
    "event_version": 1,
    "occurred_at": "2026-03-01T04:05:06+00:00",
    "producer": "p",
    "correlation_id": "c",
    "causation_id": None,
}


def legacy(key) -> Schema:
    return legacy_contracts.contract_for(*key)()


def sample(field: fields.Field):
    """A value the field accepts, from its type and validators."""
    checks = {type(v): v for v in field.validators}
    if validate.OneOf in checks:
        return checks[validate.OneOf].choices[0]
    if isinstance(field, fields.Nested):
        return valid(field.schema)
    if isinstance(field, fields.List):
        return [sample(field.inner)]
    if isinstance(field, fields.Dict):
        return {"k": sample(field.value_field)} if field.value_field else {"k": [1]}
    if validate.Length in checks and isinstance(field, fields.String):
        return "X" * (checks[validate.Length].equal or 1)
    if validate.Range in checks:
        return checks[validate.Range].min or 0
    return {
        fields.AwareDateTime: "2026-03-01T04:05:06.123+08:00",
        fields.Date: "2026-03-01",
        fields.Decimal: "12.50",
        fields.Float: 0.5,
        fields.Integer: 3,
        fields.Boolean: True,
        fields.UUID: "9f0b1a8e-8d51-4a8f-9d43-3c1c1f8f5b11",
    }.get(type(field), "text")


def valid(schema: Schema) -> dict:
    return {name: sample(field) for name, field in schema.load_fields.items()}


def variants(schema: Schema, base: dict | None = None):
    """The valid payload, with only required fields, and each field missing or odd."""
    base = base or valid(schema)
    yield base
    yield {k: v for k, v in base.items() if schema.load_fields[k].required}
    for name in base:
        yield {k: v for k, v in base.items() if k != name}
        for odd in ODD:
            yield {**base, name: odd}
        if isinstance(base[name], list) and base[name] and isinstance(base[name][0], dict):
            for inner in variants(schema.load_fields[name].inner.schema):
                yield {**base, name: [inner]}
    yield {**base, "unknown_field": 1}
    yield from ([], "text", None, 3)


def same(key, schema: Schema, data) -> None:
    """The consumer's path loads what marshmallow loaded, and refuses what it refused."""
    try:
        expected = schema.load(data)
    except ValidationError as error:
        expected = error
    body = json.dumps({**ENVELOPE, "event_type": key[0], "event_version": key[1], "payload": data})
    if isinstance(expected, ValidationError) or not isinstance(data, dict):
        with pytest.raises(EnvelopeError):
            parse_event(body)
    else:
        assert repr(parse_event(body).payload) == repr(expected), data  # Decimal("1.50")


@pytest.mark.parametrize("key", sorted(CONTRACTS), ids=lambda key: f"{key[0]}.v{key[1]}")
def test_every_contract_loads_as_marshmallow_loaded_it(key):
    schema = legacy(key)
    for data in variants(schema):
        same(key, schema, data)


def produced(key, schema: Schema, data) -> None:
    """A producer's payload is checked as marshmallow's dump and load checked it."""
    try:
        expected = schema.load(schema.dump(data))
        orjson.dumps(schema.dump(data))  # the body it was written as (``Event.to_json``)
    except ValidationError as error:
        expected = error
    except Exception:  # noqa: BLE001 - the old path broke before the outbox: nothing to compare
        return
    if isinstance(expected, ValidationError):
        with pytest.raises(ValueError, match="contract"):
            make_event(key[0], data, producer="p", version=key[1])
    else:
        got = make_event(key[0], data, producer="p", version=key[1]).payload
        # marshmallow's dump rewrote an exponent (1E+2 as 100): the same number
        assert repr(_plain(got)) == repr(_plain(expected)), data


def _plain(value):
    if isinstance(value, Decimal):
        return Decimal(format(value, "f"))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("key", sorted(CONTRACTS), ids=lambda key: f"{key[0]}.v{key[1]}")
def test_a_producer_gets_what_marshmallow_gave_it(key):
    schema = legacy(key)
    for data in variants(schema, schema.load(valid(schema))):
        if isinstance(data, dict):
            produced(key, schema, data)


@pytest.mark.parametrize("key", sorted(CONTRACTS), ids=lambda key: f"{key[0]}.v{key[1]}")
def test_a_valid_payload_comes_back_as_marshmallow_gave_it(key):
    schema = legacy(key)
    payload = schema.load(valid(schema))
    event = make_event(key[0], payload, producer="p", version=key[1])
    assert repr(event.payload) == repr(payload)
    assert event.wire_payload == json.loads(json.dumps(schema.dump(payload)))


@pytest.mark.parametrize("key", sorted(CONTRACTS), ids=lambda key: f"{key[0]}.v{key[1]}")
def test_outbox_rows_carry_what_marshmallow_dumped(key):
    schema = legacy(key)
    payloads = [
        schema.load(valid(schema)),
        schema.load({k: v for k, v in valid(schema).items() if schema.load_fields[k].required}),
    ]
    if key == ("customer.updated", 1):
        payloads.append(schema.load({**valid(schema), "changes": {"segment": {"new": "x"}}}))
    made = outbox.values(outbox.Origin("p"), key[0], payloads, datetime.now(UTC), version=key[1])
    for payload, row in zip(payloads, made, strict=True):
        assert json.loads(row[3])["payload"] == json.loads(json.dumps(schema.dump(payload)))


def test_every_contract_is_here_and_nothing_else():
    assert set(CONTRACTS) == set(legacy_contracts.CONTRACTS)


def test_the_envelope_loads_as_marshmallow_loaded_it():
    schema = EnvelopeSchema()
    base = {**valid(schema), "event_type": "call.teleported"}
    for data in variants(schema, base):
        try:
            expected = schema.load(data)
        except ValidationError:
            expected = None
        if expected is None:
            with pytest.raises(EnvelopeError, match="malformed envelope"):
                parse_event(json.dumps(data))
            continue
        event = parse_event(json.dumps(data))
        assert (event.event_id, event.event_version, event.occurred_at, event.causation_id) == (
            str(expected["event_id"]),
            expected["event_version"],
            expected["occurred_at"],
            expected["causation_id"],
        ), data
    naive = {**base, "occurred_at": "2026-03-01T04:05:06"}  # UTC by the envelope's default
    assert str(parse_event(json.dumps(naive)).occurred_at) == "2026-03-01 04:05:06+00:00"


def test_values_are_converted_as_marshmallow_converted_them():
    key = ("sale.recorded", 1)
    data = {
        **valid(legacy(key)),
        "revenue": "100.50",
        "cost": 60,
        "lines": [{"quantity": 1.1, "unit_price": "1e2", "unit_cost": "0.0001"}],
    }
    loaded = parse_event(json.dumps({**ENVELOPE, "event_type": key[0], "payload": data})).payload
    assert (loaded["revenue"], loaded["cost"]) == (Decimal("100.50"), Decimal("60"))
    assert [str(v) for v in loaded["lines"][0].values()] == [
        "None",
        "None",
        "1.1",
        "1E+2",
        "0.0001",
        "None",
    ]
