"""What makes every service's OpenAPI document say what the service answers: one
Problem schema for every error, documented as ``application/problem+json``, and
decimals documented in their wire form, a string of digits, with numeric bounds.

Both go through apispec's public extension points: a plugin's ``response_helper``
(flask-smorest registers its error responses as components) and the marshmallow
converter's ``add_attribute_function``.
"""

from __future__ import annotations

from decimal import Decimal

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from flask_smorest import Api
from marshmallow import INCLUDE, Schema, fields, validate

from shared.web import problems

DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"


class Problem(Schema):
    """An error answer (RFC 9457); a problem may carry more members of its own
    (``retry_after``, ``existing_id``...)."""

    class Meta:
        unknown = INCLUDE  # documented as additionalProperties: true

    type = fields.String(required=True, metadata={"example": "urn:rapport:problem:not-found"})
    title = fields.String(required=True)
    status = fields.Integer(required=True, validate=validate.Range(400, 599))
    instance = fields.String(required=True, metadata={"description": "The request's path."})
    request_id = fields.String(allow_none=True)
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(),
        metadata={
            "description": "Field-level detail: each field (or location) and why it was "
            "refused, nested as the request body is."
        },
    )


RATE_LIMITED = "TOO_MANY_REQUESTS"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
KEY_IN_USE = "IDEMPOTENCY_KEY_IN_USE"
KEY_FORGOTTEN = "IDEMPOTENT_ANSWER_GONE"
# Operations that take an Idempotency-Key (``shared.web.idempotency``) carry this
# mark in their documentation; the plugin below takes it out and documents the key.
KEYED = "x-rapport-idempotency-key"
KEY_HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"
REPLAYED_HEADER = "Idempotent-Replayed"


class ProblemResponses(BasePlugin):
    """flask-smorest documents its error responses (one component per status, and
    the default) as ``application/json``; they are answered as problem+json.

    Every operation may answer 503 when its database (or, for a token, the identity
    provider's keys) does not answer: nothing is written, send it again. Every one
    that takes a bearer token (all but those documented with ``security=[]``) may
    answer 429 when a rate limit is configured."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            if operation.pop(KEYED, False):
                _idempotent(operation, responses)
            responses.setdefault("503", {"$ref": f"#/components/responses/{UNAVAILABLE}"})
            if operation.get("security") == []:
                continue
            responses.setdefault("429", {"$ref": f"#/components/responses/{RATE_LIMITED}"})

    def response_helper(self, response, **kwargs):
        content = response.get("content")
        if not content or "application/json" not in content:
            return None
        content = dict(content)
        content[problems.PROBLEM_JSON] = content.pop("application/json")
        return {"content": content}


def _idempotent(operation: dict, responses: dict) -> None:
    """An operation that takes an Idempotency-Key (``shared.web.idempotency``): the
    header, the header its replayed answers carry, and the answers only a key gives."""
    operation.setdefault("parameters", []).append(
        {
            "in": "header",
            "name": KEY_HEADER,
            "required": False,
            "description": "Send the request again with the same key and the same "
            "request to get its first answer again, never a second change. Keys are "
            "the caller's own.",
            "schema": {"type": "string", "pattern": KEY_PATTERN},
        }
    )
    for status, answer in responses.items():
        if str(status).startswith("2") and isinstance(answer, dict) and "$ref" not in answer:
            answer.setdefault("headers", {})[REPLAYED_HEADER] = {
                "description": "true when this is the stored answer to an earlier "
                "request with the same Idempotency-Key",
                "schema": {"type": "string", "enum": ["true"]},
            }
    responses.setdefault("409", {"$ref": f"#/components/responses/{KEY_IN_USE}"})
    responses.setdefault("410", {"$ref": f"#/components/responses/{KEY_FORGOTTEN}"})
    responses.setdefault("422", {"$ref": "#/components/responses/UNPROCESSABLE_ENTITY"})


def _retry_later(description: str, wait: str) -> dict:
    """A problem+json response that tells the caller when to send again."""
    return {
        "description": description,
        "headers": {
            "Retry-After": {"description": wait, "schema": {"type": "integer", "minimum": 1}}
        },
        "content": {problems.PROBLEM_JSON: {"schema": "Problem"}},
    }


def decimal_properties(self, field, ret=None, **kwargs) -> dict:
    """A decimal sent as a string is documented as one: type string with a pattern,
    and its Range bounds as numbers (apispec writes them as the field dumps them,
    strings, which OpenAPI refuses)."""
    if not isinstance(field, fields.Decimal) or not field.as_string:
        return {}
    places = getattr(field, "max_places", None)
    pattern = rf"^-?\d{{1,14}}(\.\d{{1,{places}}})?$" if places else DECIMAL_PATTERN
    return {"type": "string", "format": "decimal", "pattern": pattern, **_bounds(field)}


def _bounds(field) -> dict:
    out: dict = {}
    for v in field.validators:
        if not isinstance(v, validate.Range):
            continue
        if v.min is not None:
            out["minimum"] = _number(v.min)
            if not v.min_inclusive:
                out["exclusiveMinimum"] = True
        if v.max is not None:
            out["maximum"] = _number(v.max)
            if not v.max_inclusive:
                out["exclusiveMaximum"] = True
    return out


def _number(value) -> int | float:
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


class ProblemApi(Api):
    """flask-smorest's Api answering and documenting errors as problem+json, and
    decimals as strings."""

    ERROR_SCHEMA = Problem

    def __init__(self, app=None, **kwargs):
        self.marshmallow = MarshmallowPlugin()
        spec = kwargs.setdefault("spec_kwargs", {})
        spec.setdefault("marshmallow_plugin", self.marshmallow)
        spec.setdefault("extra_plugins", [ProblemResponses()])
        super().__init__(app, **kwargs)

    def init_app(self, app, **kwargs):
        super().init_app(app, **kwargs)
        assert self.marshmallow.converter is not None  # set when the spec registered the plugin
        self.marshmallow.converter.add_attribute_function(decimal_properties)
        for name, description, wait in (
            (
                RATE_LIMITED,
                "Over a rate limit (per partner or per token): wait the Retry-After "
                "seconds, then send again.",
                "Seconds until the limit's window ends.",
            ),
            (
                UNAVAILABLE,
                "Something the service needs did not answer (its database, or the "
                "identity provider's signing keys): nothing was written; wait the "
                "Retry-After seconds, then send again.",
                "Seconds to wait before sending again.",
            ),
        ):
            self.spec.components.response(name, _retry_later(description, wait))
        self.spec.components.response(
            KEY_IN_USE,
            _retry_later(
                "A request with this Idempotency-Key is still being processed: wait "
                "the Retry-After seconds, then send it again.",
                "Seconds to wait before sending again.",
            ),
        )
        self.spec.components.response(
            KEY_FORGOTTEN,
            {
                "description": "The stored answer to this Idempotency-Key concerned a "
                "customer since erased: it is not given again, and the request is not "
                "run again.",
                "content": {problems.PROBLEM_JSON: {"schema": "Problem"}},
            },
        )

    def handle_http_exception(self, error):
        return problems.handle_http_exception(error)
