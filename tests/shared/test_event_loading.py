"""The checked loading path gives marshmallow's answer for every contract: whatever it
accepts loads to exactly what ``Schema.load`` returns, and what it is unsure of goes
to ``Schema.load`` (so refusals and their messages are marshmallow's)."""
from __future__ import annotations

import math
from decimal import Decimal

import pytest
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.events import CONTRACTS
from shared.events.envelope import EnvelopeSchema, schema_for
from shared.events.loading import compile_schema, loader

# Values of every JSON type and the awkward strings and numbers a producer might send.
ODD = [None, True, False, 0, 1, -1, 7, 2 ** 70, 1.5, -0.0, 1e308, math.nan, math.inf, "",
       "x", "7", " 7 ", "1.50", "1e999", "NaN", "-Infinity", "sNaN", "1_000", "0x10",
       "2026-03-01", "2026-03-01T04:05:06", "2026-03-01T04:05:06+08:00",
       "2026-03-01T04:05:06Z", "2026-13-01T00:00:00+00:00", "20260301",
       "9f0b1a8e-8d51-4a8f-9d43-3c1c1f8f5b11", "{9F0B1A8E-8D51-4A8F-9D43-3C1C1F8F5B11}",
       "HKD", "hkd", "phone", "reached", "true", "1", [], ["x"], [{}], {}, {"a": 1},
       {"old": "a", "new": None}]


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
    return {fields.AwareDateTime: "2026-03-01T04:05:06.123+08:00", fields.Date: "2026-03-01",
            fields.Decimal: "12.50", fields.Float: 0.5, fields.Integer: 3, fields.Boolean: True,
            fields.UUID: "9f0b1a8e-8d51-4a8f-9d43-3c1c1f8f5b11"}.get(type(field), "text")


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


def same(schema: Schema, data) -> None:
    """The checked path either declines or returns exactly marshmallow's result."""
    try:
        expected = schema.load(data)
    except ValidationError as error:
        expected = error
    try:
        got = compile_schema(schema)(data)
    except Exception:  # noqa: BLE001 - declined: marshmallow decides
        got = None
    if got is not None:
        assert not isinstance(expected, ValidationError), (data, got, expected.messages)
        assert repr(got) == repr(expected), data  # repr: Decimal("1.50") is not "1.5"
    loaded = loader(schema)
    if isinstance(expected, ValidationError):
        with pytest.raises(ValidationError) as raised:
            loaded(data)
        assert raised.value.messages == expected.messages
    else:
        assert repr(loaded(data)) == repr(expected)


@pytest.mark.parametrize("key", sorted(CONTRACTS), ids=lambda key: f"{key[0]}.v{key[1]}")
def test_every_contract_loads_as_marshmallow_loads_it(key):
    schema = schema_for(*key)
    assert compile_schema(schema) is not None, "the contract fell off the checked path"
    assert compile_schema(schema)(valid(schema)) == schema.load(valid(schema))
    for data in variants(schema):
        same(schema, data)


def test_the_envelope_loads_as_marshmallow_loads_it():
    schema = EnvelopeSchema()
    base = {**valid(schema), "event_type": "call.completed"}
    assert compile_schema(schema)(base)["occurred_at"].utcoffset() is not None
    for data in variants(schema, base):
        same(schema, data)
    for event_type in ("call.completed", "Call.completed", "call", "call.completed.v1", "a.b "):
        same(schema, {**base, "event_type": event_type})
    naive = {**base, "occurred_at": "2026-03-01T04:05:06"}  # UTC by the envelope's default
    assert str(compile_schema(schema)(naive)["occurred_at"]) == "2026-03-01 04:05:06+00:00"


def test_values_are_converted_as_marshmallow_converts_them():
    schema = schema_for("sale.recorded", 1)
    data = {**valid(schema), "revenue": "100.50", "cost": 60, "lines": [
        {"quantity": 1.1, "unit_price": "1e2", "unit_cost": "0.0001"}]}
    loaded = compile_schema(schema)(data)
    assert (loaded["revenue"], loaded["cost"]) == (Decimal("100.50"), Decimal("60"))
    assert [str(v) for v in loaded["lines"][0].values()] == ["None", "None", "1.1", "1E+2",
                                                            "0.0001", "None"]


def test_what_the_checked_path_does_not_reproduce_is_left_to_the_schema():
    class Hooked(Schema):
        class Meta:
            unknown = "exclude"
        name = fields.String()

        @validates_schema
        def refuse(self, data, **_kwargs):
            raise ValidationError("never")

    class Strict(Schema):  # raises on unknown fields
        name = fields.String()

    class Odd(Schema):
        class Meta:
            unknown = "exclude"
        when = fields.DateTime(format="%d/%m/%Y")

    for schema in (Hooked(), Strict(), Odd()):
        assert compile_schema(schema) is None
        assert loader(schema) == schema.load
