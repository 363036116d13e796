"""Loading envelopes and payloads with marshmallow's answers, without its per-field
machinery for the common case.

A consumer validates every delivery twice (envelope, then payload contract);
through ``Schema.load`` that cost 50–70 µs an event, a fifth of what reporting
spends on one. ``loader(schema)`` reads the schema's declared fields once and
builds plain functions that vouch only for the well-formed case — a ``str`` where
a String is declared, an ``int`` for an Integer, an ISO string for a datetime —
converting it with the very calls marshmallow makes (``datetime.fromisoformat``,
``Decimal(str(value))``, ``uuid.UUID``, the field's own validators). Anything it
cannot vouch for (another type, a value a validator refuses, a field kind or
option it does not know) goes to ``schema.load`` itself: what is accepted loads to
exactly what marshmallow returns, and every refusal is marshmallow's, with its
messages.
"""
from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from typing import Any, Callable

from marshmallow import EXCLUDE, Schema, fields, missing
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA

Convert = Callable[[Any], Any]


class Unsure(Exception):
    """The checked path cannot vouch for a value: marshmallow decides."""


def loader(schema: Schema) -> Callable[[Any], dict]:
    """``schema.load``, with the checked path tried first where the schema allows it."""
    checked = compile_schema(schema)
    if checked is None:
        return schema.load

    def load(data):
        try:
            return checked(data)
        except Exception:  # noqa: BLE001 - not vouched for: the schema's own answer
            return schema.load(data)
    return load


def compile_schema(schema: Schema) -> Convert | None:
    """A function loading what ``schema`` would load, raising where it is unsure;
    None if the schema uses anything this module does not reproduce."""
    hooks = getattr(schema, "_hooks", None)
    if (hooks is None or any(hooks.get(tag) for tag in (PRE_LOAD, POST_LOAD, VALIDATES,
                                                         VALIDATES_SCHEMA))
            or schema.unknown != EXCLUDE or schema.many or schema.partial
            or schema.dict_class is not dict):
        return None
    plan = []
    for attr, field in schema.load_fields.items():
        convert = _field(field)
        target = field.attribute or attr
        if convert is None or "." in target:
            return None
        plan.append((attr if field.data_key is None else field.data_key, target,
                     field.required, field.load_default, convert))

    def load(data):
        if type(data) is not dict:
            raise Unsure
        out = {}
        for key, target, required, default, convert in plan:
            value = data.get(key, missing)
            if value is not missing:
                out[target] = convert(value)
            elif required:
                raise Unsure
            elif default is not missing:
                out[target] = default() if callable(default) else default
        return out
    return load


def _field(field: fields.Field) -> Convert | None:
    """The field's ``deserialize`` for a present value, or None if not reproduced."""
    build = _BUILDERS.get(type(field))  # exact type: a subclass may load otherwise
    if build is None or field.pre_load or field.post_load:
        return None
    convert = build(field)
    if convert is None:
        return None
    validators, allow_none = tuple(field.validators), field.allow_none

    def deserialize(value):
        if value is None:
            if allow_none:
                return None
            raise Unsure
        out = convert(value)
        for validate in validators:
            if validate(out) is False:  # a plain function's refusal
                raise Unsure
        return out
    return deserialize


def _exactly(kind: type, parse: Callable[[Any], Any] | None = None) -> Convert:
    """Values of exactly ``kind`` (a bool is not an int here), parsed if asked."""
    def convert(value):
        if type(value) is not kind:
            raise Unsure
        return value if parse is None else parse(value)
    return convert


def _float(field: fields.Float) -> Convert:
    allow_nan = field.allow_nan

    def convert(value):
        if type(value) not in (int, float):
            raise Unsure
        number = float(value)
        if not (allow_nan or math.isfinite(number)):
            raise Unsure
        return number
    return convert


def _decimal(field: fields.Decimal) -> Convert | None:
    if field.places is not None or field.allow_nan:
        return None

    def convert(value):
        if type(value) not in (str, int, float):
            raise Unsure
        number = decimal.Decimal(str(value))
        if not number.is_finite():
            raise Unsure
        return number
    return convert


def _boolean(field: fields.Boolean) -> Convert | None:
    defaults = fields.Boolean.truthy, fields.Boolean.falsy
    return _exactly(bool) if (field.truthy, field.falsy) == defaults else None


def _temporal(parse: Callable[[str], Any], aware: bool = False):
    """ISO strings only, parsed by the function marshmallow's "iso" format uses."""
    def build(field) -> Convert | None:
        if field.format not in ("iso", "iso8601"):
            return None
        zone = getattr(field, "default_timezone", None)

        def convert(value):
            if type(value) is not str:
                raise Unsure
            moment = parse(value)
            if aware and (moment.tzinfo is None or moment.utcoffset() is None):
                if zone is None:
                    raise Unsure
                moment = moment.replace(tzinfo=zone)
            return moment
        return convert
    return build


def _list(field: fields.List) -> Convert | None:
    inner = _field(field.inner)
    if inner is None:
        return None

    def convert(value):
        if type(value) is not list:
            raise Unsure
        return [inner(each) for each in value]
    return convert


def _dict(field: fields.Dict) -> Convert | None:
    """Without key or value fields marshmallow copies the dict; with them it loads each."""
    if field.key_field is None and field.value_field is None:
        return _shallow_copy
    keys = _field(field.key_field) if field.key_field is not None else _same
    values = _field(field.value_field) if field.value_field is not None else _same
    if keys is None or values is None:
        return None

    def convert(value):
        if type(value) is not dict:
            raise Unsure
        return {keys(key): values(each) for key, each in value.items()}
    return convert


def _nested(field: fields.Nested) -> Convert | None:
    if field.many or field.unknown is not None or field.only or field.exclude:
        return None
    return compile_schema(field.schema)


def _same(value):
    return value


def _shallow_copy(value):
    if type(value) is not dict:
        raise Unsure
    return dict(value)


_BUILDERS: dict[type, Callable[[Any], Convert | None]] = {
    fields.Raw: lambda _field: _same,
    fields.String: lambda _field: _exactly(str),
    fields.Integer: lambda _field: _exactly(int),
    fields.Float: _float,
    fields.Decimal: _decimal,
    fields.Boolean: _boolean,
    fields.AwareDateTime: _temporal(dt.datetime.fromisoformat, aware=True),
    fields.Date: _temporal(dt.date.fromisoformat),
    fields.UUID: lambda _field: _exactly(str, uuid.UUID),
    fields.List: _list,
    fields.Dict: _dict,
    fields.Nested: _nested,
}
