"""The plain dumping path gives marshmallow's answer: for every schema of every
service, and for every field holding a value of its own type, another type, None
or nothing at all, ``dumper(schema)`` returns exactly what ``Schema.dump`` returns,
or raises the same error."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields, post_dump

import services
from shared.web.dumping import dumper

AT = datetime(2026, 3, 1, 4, 5, 6, 123000, tzinfo=timezone(timedelta(hours=8)))
# Every kind of value a read model or row might hand a response schema.
ODD = [
    None,
    True,
    False,
    0,
    7,
    -1,
    2**70,
    1.5,
    float("nan"),
    Decimal("12.50"),
    Decimal("1E+3"),
    "",
    "text",
    "7",
    "2026-03-01",
    b"bytes",
    AT,
    AT.replace(tzinfo=None),
    date(2026, 3, 1),
    uuid.UUID(int=5),
    [],
    ["x", 2],
    [{"id": "a"}],
    {},
    {"a": 1},
    ("t", 1),
    {"x"},
]


def schemas():
    """Every response and request schema the services and the shared web layer declare."""
    found = {}
    for module in pkgutil.walk_packages(services.__path__, "services."):
        if ".schemas" not in module.name and not module.name.endswith(".api"):
            continue
        for _, obj in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if (
                issubclass(obj, Schema)
                and obj is not Schema
                and obj.__module__.startswith(("services.", "shared."))
            ):
                found[f"{obj.__module__}.{obj.__name__}"] = obj
    return found


SCHEMAS = schemas()


def typical(field: fields.Field):
    if isinstance(field, fields.Nested):
        return typical_object(field.schema)
    if isinstance(field, fields.Dict) and field.value_field is not None:
        return {"k": typical(field.value_field)}
    if isinstance(field, fields.List):
        return [typical(field.inner), typical(field.inner)]
    for kind, value in (
        (fields.DateTime, AT),
        (fields.Date, date(2026, 3, 1)),
        (fields.Decimal, Decimal("12.50")),
        (fields.Float, 0.5),
        (fields.Integer, 3),
        (fields.Boolean, True),
        (fields.Dict, {"k": [1]}),
    ):
        if isinstance(field, kind):  # subclasses too: Money is a Decimal
            return value
    return "text"


def typical_object(schema: Schema) -> dict:
    return {
        name: typical(field)
        for name, field in schema.dump_fields.items()
        if field.attribute is None or "." not in field.attribute
    }


def outcome(dump, obj):
    try:
        return "ok", repr(dump(obj))
    except Exception as error:  # noqa: BLE001 - both sides must fail alike
        return "error", type(error)


def variants(schema: Schema):
    base = typical_object(schema)
    yield base
    yield {}
    yield SimpleNamespace(**base)  # an object read by attribute, like an ORM row
    for name in base:
        yield {k: v for k, v in base.items() if k != name}
        for odd in ODD:
            yield {**base, name: odd}
        field = schema.dump_fields[name]
        if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            for inner in variants(field.inner.schema):
                yield {**base, name: [inner]}
        if isinstance(field, fields.Nested):
            for inner in variants(field.schema):
                yield {**base, name: inner}


def test_the_services_declare_schemas():
    assert len(SCHEMAS) > 40


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_schema_dumps_as_marshmallow_does(name):
    schema = SCHEMAS[name]()
    fast = dumper(schema)
    for obj in variants(schema):
        assert outcome(fast, obj) == outcome(schema.dump, obj), obj
    many = [typical_object(schema), {}]
    assert outcome(lambda obj: fast(obj, many=True), many) == outcome(
        lambda obj: schema.dump(obj, many=True), many
    )


def test_a_list_schema_and_nothing_to_list():
    schema = SCHEMAS["services.customer.profiles.schemas.CustomerOut"](many=True)
    assert repr(dumper(schema)(None)) == repr(schema.dump(None))


def test_defaults_data_keys_and_attributes_are_marshmallow_s():
    class Odd(Schema):
        shown = fields.String(data_key="Shown")
        renamed = fields.Integer(attribute="inner_name")
        dotted = fields.String(attribute="a.b")
        defaulted = fields.String(dump_default="none given")
        called = fields.Integer(dump_default=lambda: 4)
        method = fields.Method("twice")
        as_text = fields.Integer(as_string=True)
        stamp = fields.DateTime(format="%Y/%m/%d")
        keyed = fields.Dict(keys=fields.String(), values=fields.Integer())

        def twice(self, obj):
            return 2 * obj["inner_name"]

    schema = Odd()
    for obj in (
        {
            "shown": "x",
            "inner_name": 3,
            "a": {"b": "c"},
            "as_text": 5,
            "stamp": AT,
            "keyed": {"k": 1},
        },
        {"inner_name": 1, "items": "not the dict's method", "keys": 3},
        {"inner_name": 0, "defaulted": None, "called": 9},
    ):
        assert outcome(dumper(schema), obj) == outcome(schema.dump, obj)


def test_a_schema_with_dump_hooks_is_dumped_by_marshmallow():
    class Hooked(Schema):
        name = fields.String()

        @post_dump
        def shout(self, data, **_kwargs):
            return {"name": data["name"].upper()}

    schema = Hooked()
    assert dumper(schema) == schema.dump
    assert dumper(schema)({"name": "a"}) == {"name": "A"}


def test_a_missing_key_named_as_a_dict_attribute_and_a_repeated_shape_are_marshmallow_s():
    class Named(Schema):
        copy = fields.String()
        items = fields.Integer()
        plain = fields.String()
        when = fields.DateTime()

    schema = Named()
    fast = dumper(schema)
    for obj in (
        {"plain": "a"},
        {"plain": "b"},
        {"copy": "c", "items": 1, "plain": "d", "when": AT},
        {"copy": "e", "items": 2, "plain": "f", "when": AT.replace(tzinfo=None)},
        {"copy": "g", "items": True, "plain": "h", "when": None},
        {"copy": "g", "items": 3, "plain": None, "when": "2026-03-01"},
    ):
        assert outcome(fast, obj) == outcome(schema.dump, obj), obj
