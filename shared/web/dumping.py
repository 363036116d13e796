"""Dumping a response with marshmallow's answer, without its per-field machinery for
the common case.

``Schema.dump`` walks every field through ``Field.serialize``: an accessor call, a
default check and the field's conversion, a dozen Python calls a field; for a
profile of forty fields that is a noticeable part of a ``GET /customers/{id}``.
``dumper(schema)`` reads the schema's dump fields once and builds a plain function
per field: a value already of the type a simple field puts out (a ``str`` for a
String, an ``int`` for an Integer, ...) is passed through, dates go through the
function the field's own ``SERIALIZATION_FUNCS`` names, lists and nested schemas
recurse. Any other value, and any field kind this module does not know, goes to the
field's own public ``serialize``; a schema with dump hooks, or an accessor of its
own, is dumped by ``Schema.dump`` itself. tests/shared/test_dumping.py holds every
schema of every service to ``Schema.dump``'s answer, so a marshmallow that changes
underneath fails there.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from itertools import compress, repeat
from typing import Any

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

from shared.web.schema_hooks import hooks

Dump = Callable[[Any], Any]
Convert = Callable[[Any], Any]
SLOW = object()  # a value the plain path does not vouch for: the field's own answers


def dumper(schema: Schema) -> Callable[..., Any]:
    """``schema.dump``, through the plain path where the schema allows it."""
    one = _compile(schema)
    if one is None:
        return schema.dump

    def dump(obj, *, many: bool | None = None):
        if many is None:
            many = schema.many
        if many and obj is not None:
            return [one(each) for each in obj]
        return one(obj)

    return dump


def _compile(schema: Schema) -> Dump | None:
    found = hooks(schema)
    if (
        found[PRE_DUMP]
        or found[POST_DUMP]
        or type(schema).get_attribute is not Schema.get_attribute
        or schema.dict_class is not dict
    ):
        return None
    # Each field: its key, where its value is read, then either the one type its
    # values pass through as (most fields; checked here, without a call) or the
    # function that converts them, and the field's own path for the rest.
    plan: list[tuple] = []
    for attr, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else attr
        source = attr if field.attribute is None else field.attribute
        whole = _whole(field, attr, schema.get_attribute)
        if "." in source or type(field) not in _KINDS:
            plan.append((key, None, None, None, whole, missing, False))
            continue
        convert = _KINDS[type(field)](field)
        kind = convert if isinstance(convert, type) else None
        plan.append((key, source, kind, convert, whole, field.dump_default, hasattr(dict, source)))
    by_marshmallow = type(schema).dump
    by_shape = _by_shape(plan)

    def one(obj):
        out = {}
        get: Callable[[str, Any], Any]
        if type(obj) is dict:
            if by_shape is not None:
                out = by_shape(obj)
                if out is not SLOW:
                    return out
                out = {}
            get = obj.get
        elif not hasattr(obj, "__getitem__"):

            def get_attribute(name, default, obj=obj):
                return getattr(obj, name, default)

            get = get_attribute
        else:  # a mapping of another kind: marshmallow's lookups, hooks there are none
            return by_marshmallow(schema, obj, many=False)
        for key, source, kind, convert, whole, default, on_dict in plan:
            if source is None:
                value = whole(obj)
                if value is missing:
                    continue
            else:
                value = get(source, missing)
                if value is missing:
                    # marshmallow falls back to the attribute: a dict's are its class's
                    if type(obj) is dict and on_dict:
                        value = getattr(obj, source, missing)
                    if value is missing:
                        value = default() if callable(default) else default
                        if value is missing:
                            continue
                if kind is not None:
                    if value is not None and type(value) is not kind:
                        value = whole(obj)
                else:
                    value = convert(value)
                    if value is SLOW:
                        value = whole(obj)
            out[key] = value
        return out

    return one


SHAPES = 256  # the value type shapes known per schema: the rest take the loop


def _by_shape(plan: list[tuple]) -> Callable[[dict], Any] | None:
    """The loop of ``one`` for a dict, a field at a time in C: every field's value
    read at once, and the types they came as (the dict's shape) looked up. A shape
    known to pass every plain field through as it is, and to leave out only fields
    that are missing with no default and no attribute of dict to fall back on,
    needs only its converted fields converted; any other shape answers ``SLOW``
    (the loop then runs). None where a field's value is not read by its key."""
    if any(source is None for _, source, *_ in plan):
        return None
    keys = tuple(entry[0] for entry in plan)
    sources = tuple(entry[1] for entry in plan)
    shapes: dict[tuple, Any] = {}

    def learn(shape: tuple):
        kept, converted = [], []
        for i, (_, _, kind, convert, whole, default, on_dict) in enumerate(plan):
            if shape[i] is _MISSING_TYPE:
                if on_dict or default is not missing:
                    return SLOW
                kept.append(False)
                continue
            if kind is not None and shape[i] is not kind and shape[i] is not _NONE_TYPE:
                return SLOW
            kept.append(True)
            if kind is None:
                converted.append((i, convert, whole))
        dropped = tuple(i for i, keep in enumerate(kept) if not keep)
        return tuple(compress(keys, kept)), tuple(kept), dropped, tuple(converted)

    def by_shape(obj: dict):
        values = list(map(obj.get, sources, repeat(missing)))
        shape = tuple(map(type, values))
        known = shapes.get(shape)
        if known is None:
            known = learn(shape)
            if len(shapes) < SHAPES:
                shapes[shape] = known
        if known is SLOW:
            return SLOW
        kept_keys, kept, dropped, converted = known
        for i in dropped:
            if values[i] is not missing:  # another object of marshmallow's missing type
                return SLOW
        for i, convert, whole in converted:
            value = convert(values[i])
            values[i] = whole(obj) if value is SLOW else value
        if dropped:
            return dict(zip(kept_keys, compress(values, kept)))
        return dict(zip(kept_keys, values))

    return by_shape


_MISSING_TYPE = type(missing)
_NONE_TYPE = type(None)


def _whole(field: fields.Field, attr: str, accessor) -> Callable:
    def serialize(obj):
        return field.serialize(attr, obj, accessor=accessor)

    return serialize


def _own(kind) -> Convert:
    """Values of the type ``kind`` as they are; the rest through the field's own code."""

    def convert(value):
        if value is None or type(value) is kind:
            return value
        return SLOW

    return convert


def _function(convert: type | Convert) -> Convert:
    """A field's conversion as a function, where its plan names just a type."""
    return _own(convert) if isinstance(convert, type) else convert


def _string(field) -> type:
    return str


def _integer(field) -> type | Convert:
    return _own(None) if field.as_string else int


def _float(field) -> type | Convert:
    return _own(None) if field.as_string else float


def _decimal(field) -> Convert:
    """marshmallow's ``Decimal._serialize``: the value through ``Decimal(str(value))``,
    quantized to the field's places when finite, as a string when ``as_string``."""
    places, rounding, allow_nan, as_string = (
        field.places,
        field.rounding,
        field.allow_nan,
        field.as_string,
    )

    def convert(value):
        if value is None:
            return None
        number = Decimal(str(value))
        if allow_nan and number.is_nan():
            number = Decimal("NaN")
        elif places is not None and number.is_finite():
            number = number.quantize(places, rounding=rounding)
        return format(number, "f") if as_string else number

    return convert


def _boolean(field) -> type:
    return bool


def _temporal(field):
    format_func = field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
    if format_func is None:
        return _own(None)

    def convert(value):
        return None if value is None else format_func(value)

    return convert


def _dict(field):
    if field.key_field is not None or field.value_field is not None:
        return _own(None)

    def convert(value):
        return None if value is None else field.mapping_type(value)

    return convert


def _list(field):
    inner_type = type(field.inner)
    if inner_type not in _KINDS:
        return _own(None)
    inner = _function(_KINDS[inner_type](field.inner))

    def convert(value):
        if value is None:
            return None
        out = [inner(each) for each in value]
        return SLOW if SLOW in out else out

    return convert


def _nested(field):
    dumps: list = []

    def convert(value):
        if value is None:
            return None
        if not dumps:  # the nested schema resolves on first use, as marshmallow's does
            dumps.append(dumper(field.schema))
        return dumps[0](value, many=field.schema.many or field.many)

    return convert


_KINDS = {
    fields.String: _string,
    fields.Integer: _integer,
    fields.Float: _float,
    fields.Decimal: _decimal,
    fields.Boolean: _boolean,
    fields.DateTime: _temporal,
    fields.Date: _temporal,
    fields.Dict: _dict,
    fields.List: _list,
    fields.Nested: _nested,
}
