"""The flask-smorest Blueprint every service's routes are declared on.

webargs builds a new schema object on every request when a route names its
argument schema by class (``@blp.arguments(CustomerIn)``): field copies and hook
look-ups each time, tens of microseconds on the hottest reads. The schemas here
keep no per-request state, so one instance made when the route is declared serves
every request; the OpenAPI document is the same either way.

A route whose query schema has defaults that could not differ another time (no
hooks, no validators of the whole, no default made by a call, plain values only)
answers an empty query string (most reads send none) with those defaults, computed
once, without going through webargs' parser: its request wrappers cost more than
the profile read behind ``GET /customers/{id}``. The view then gets them where
flask-smorest documents that parsed arguments go: as a positional argument after
the path's.

Responses are dumped through ``shared.web.dumping``: marshmallow's output, without
its per-field calls for the plain values most fields hold.
"""

from __future__ import annotations

import inspect
from functools import wraps

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import resolve_schema_instance

from shared.web.dumping import dumper
from shared.web.schema_hooks import hooks


class Blueprint(SmorestBlueprint):
    def arguments(self, schema, **kwargs):
        if isinstance(schema, type) and issubclass(schema, ma.Schema):
            schema = schema()
        decorate = super().arguments(schema, **kwargs)
        plain_position = not {"as_kwargs", "arg_name"} & kwargs.keys()
        empty = (
            _defaults_when_empty(schema)
            if kwargs.get("location") == "query" and plain_position
            else None
        )
        if empty is None:
            return decorate

        def decorator(func):
            parsed = decorate(func)  # flask-smorest's documentation, webargs' parsing
            if inspect.iscoroutinefunction(func):
                return parsed

            @wraps(parsed)
            def wrapper(*args, **kw):
                if request.query_string:
                    return parsed(*args, **kw)
                return func(*args, dict(empty), **kw)

            return wrapper

        return decorator

    def response(self, status_code, schema=None, **kwargs):
        schema = resolve_schema_instance(schema)
        if schema is not None:
            schema.dump = dumper(schema)  # this instance serves only this route
        return super().response(status_code, schema, **kwargs)


_PLAIN = (str, int, float, bool, type(None))


def _defaults_when_empty(schema: ma.Schema) -> dict | None:
    """What ``schema`` loads from nothing, if it is the same on every request."""
    if any(hooks(schema).values()) or any(
        callable(field.load_default) for field in schema.fields.values()
    ):
        return None
    try:
        empty = schema.load({})
    except ma.ValidationError:
        return None
    return empty if all(isinstance(value, _PLAIN) for value in empty.values()) else None
