"""Decimals are documented in their wire form, bounds as numbers; errors as problems."""

from decimal import Decimal

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import fields, validate

from shared.web.fields import DecimalString, Money
from shared.web.openapi import ProblemResponses, decimal_properties


def converted(field) -> dict:
    plugin = MarshmallowPlugin()
    APISpec("t", "1", "3.0.3", plugins=[plugin])
    plugin.converter.add_attribute_function(decimal_properties)
    return plugin.converter.field2property(field)


def test_money_is_a_string_of_digits_with_numeric_bounds():
    field = Money(
        places=2,
        validate=validate.Range(min=Decimal(0), max=Decimal("100000.50"), min_inclusive=False),
    )
    assert converted(field) == {
        "type": "string",
        "format": "decimal",
        "pattern": r"^-?\d{1,14}(\.\d{1,2})?$",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 100000.5,
    }


def test_any_decimal_sent_as_a_string_is_documented_as_one():
    plain = fields.Decimal(as_string=True, validate=validate.Range(min=Decimal("0.01")))
    assert converted(plain) == {
        "type": "string",
        "format": "decimal",
        "pattern": r"^-?\d+(\.\d+)?$",
        "minimum": 0.01,
    }
    assert converted(DecimalString(allow_none=True))["nullable"] is True
    assert converted(fields.Decimal())["type"] == "number"  # a JSON number stays one


def test_error_responses_are_documented_as_problem_json():
    response = {"description": "Not found", "content": {"application/json": {"schema": "P"}}}
    assert ProblemResponses().response_helper(response) == {
        "content": {"application/problem+json": {"schema": "P"}}
    }
    assert ProblemResponses().response_helper({"description": "No content"}) is None
