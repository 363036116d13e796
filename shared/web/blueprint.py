"""The flask-smorest Blueprint every service's routes are declared on.

webargs builds a new schema object on every request when a route names its
argument schema by class (``@blp.arguments(CustomerIn)``): field copies and hook
look-ups each time, tens of microseconds on the hottest reads. The schemas here
keep no per-request state, so one instance made when the route is declared serves
every request; the OpenAPI document is the same either way.

A query schema loads an empty query string (most reads send none) to its defaults,
computed once, when nothing in it could answer differently another time: no hooks,
no validators of the whole, no default made by a call, plain values only.

Responses are dumped through ``shared.web.dumping``: marshmallow's output, without
its per-field calls for the plain values most fields hold.
"""
from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import resolve_schema_instance

from shared.web.dumping import dumper


class Blueprint(SmorestBlueprint):
    def arguments(self, schema, **kwargs):
        if isinstance(schema, type) and issubclass(schema, ma.Schema):
            schema = schema()
        if kwargs.get("location") == "query":
            _defaults_when_empty(schema)
        return super().arguments(schema, **kwargs)

    def response(self, status_code, schema=None, **kwargs):
        schema = resolve_schema_instance(schema)
        if schema is not None:
            schema.dump = dumper(schema)  # this instance serves only this route
        return super().response(status_code, schema, **kwargs)


_PLAIN = (str, int, float, bool, type(None))


def _defaults_when_empty(schema: ma.Schema) -> None:
    if any(schema._hooks.values()) or any(callable(field.load_default)
                                          for field in schema.fields.values()):
        return
    load = schema.load
    try:
        empty = load({})
    except ma.ValidationError:
        return
    if not all(isinstance(value, _PLAIN) for value in empty.values()):
        return

    def load_or_defaults(data, *, many=None, partial=None, unknown=None):
        if not data and many is None and partial is None:
            return dict(empty)
        return load(data, many=many, partial=partial, unknown=unknown)
    schema.load = load_or_defaults  # this instance serves only this route
