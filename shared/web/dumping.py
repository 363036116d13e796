"""Dumping a response with marshmallow's answer, without its per-field machinery for
the common case.

``Schema.dump`` walks every field through ``Field.serialize``: an accessor call, a
default check and the field's ``_serialize``, a dozen Python calls a field. For a
profile of forty fields that was a fifth of a ``GET /customers/{id}``.
``dumper(schema)`` reads the schema's dump fields once and builds a plain function
per field: a value already of the type a simple field puts out (a ``str`` for a
String, an ``int`` for an Integer, ...) is passed through, dates go through the very
function marshmallow's field calls, lists and nested schemas recurse; anything else
goes to the field's own ``_serialize``, and a field kind this module does not know
to the field's own ``serialize``. A schema with dump hooks, or an accessor of its
own, is dumped by ``Schema.dump`` itself.
"""
from __future__ import annotations

from typing import Any, Callable

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

Dump = Callable[[Any], Any]


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
    hooks = getattr(schema, "_hooks", None)
    if (hooks is None or any(hooks.get(tag) for tag in (PRE_DUMP, POST_DUMP))
            or type(schema).get_attribute is not Schema.get_attribute
            or schema.dict_class is not dict):
        return None
    plan = []
    for attr, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else attr
        source = attr if field.attribute is None else field.attribute
        if not field._CHECK_ATTRIBUTE or "." in source or type(field) not in _KINDS:
            plan.append((key, None, _whole(field, attr, schema.get_attribute)))
            continue
        default = field.dump_default
        plan.append((key, source, (_KINDS[type(field)](field, attr), default)))

    def one(obj):
        out = {}
        if type(obj) is dict:
            get = obj.get
        elif not hasattr(obj, "__getitem__"):
            def get(name, default, obj=obj):
                return getattr(obj, name, default)
        else:
            return schema._serialize(obj, many=False)
        for key, source, action in plan:
            if source is None:
                value = action(obj)
                if value is missing:
                    continue
            else:
                value = get(source, missing)
                if value is missing:
                    if type(obj) is dict:  # marshmallow falls back to the attribute
                        value = getattr(obj, source, missing)
                    if value is missing:
                        default = action[1]
                        value = default() if callable(default) else default
                        if value is missing:
                            continue
                value = action[0](value, obj)
            out[key] = value
        return out
    return one


def _whole(field: fields.Field, attr: str, accessor) -> Callable:
    def serialize(obj):
        return field.serialize(attr, obj, accessor=accessor)
    return serialize


def _own(field: fields.Field, attr: str, kind) -> Callable:
    """Values of the type ``kind`` as they are; the rest through the field's own code."""
    def convert(value, obj):
        if value is None or type(value) is kind:
            return value
        return field._serialize(value, attr, obj)
    return convert


def _string(field, attr):
    return _own(field, attr, str)


def _integer(field, attr):
    return _own(field, attr, None if field.as_string else int)


def _float(field, attr):
    return _own(field, attr, None if field.as_string else float)


def _boolean(field, attr):
    return _own(field, attr, bool)


def _temporal(field, attr):
    format_func = field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
    if format_func is None:
        return _own(field, attr, None)

    def convert(value, obj):
        return None if value is None else format_func(value)
    return convert


def _dict(field, attr):
    if field.key_field is not None or field.value_field is not None:
        return _own(field, attr, None)

    def convert(value, obj):
        return None if value is None else field.mapping_type(value)
    return convert


def _list(field, attr):
    inner_type = type(field.inner)
    if inner_type not in _KINDS:
        return _own(field, attr, None)
    inner = _KINDS[inner_type](field.inner, attr)

    def convert(value, obj):
        if value is None:
            return None
        return [inner(each, obj) for each in value]
    return convert


def _nested(field, attr):
    dumps: list = []

    def convert(value, obj):
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
    fields.Boolean: _boolean,
    fields.DateTime: _temporal,
    fields.Date: _temporal,
    fields.Dict: _dict,
    fields.List: _list,
    fields.Nested: _nested,
}
