"""What every report's JSON answer is made of, for the OpenAPI document: field
helpers and the pieces several reports share (each report's answer schema is in its
package's ``schemas``).

The report modules build their answers as dicts (``reports.render.plain`` turns dates
into ISO strings and money into decimal strings); these schemas document them and are
checked against real answers by the contract suite (tests/contract), which fails on
a member the document does not name, a missing one it requires, or a wrong type.
"""

from marshmallow import Schema, fields

from shared.web.fields import DecimalString

FIELD = {"required": True}
NULLABLE = {"required": True, "allow_none": True}


def integer():
    return fields.Integer(**FIELD)


def ratio(description: str = "A share from 0 to 1; null when there is nothing to divide by."):
    return fields.Float(**NULLABLE, metadata={"description": description})


def text():
    return fields.String(**FIELD)


def many(schema):
    return fields.List(fields.Nested(schema), **FIELD)


def counts():
    return fields.Dict(keys=fields.String(), values=fields.Integer(), **FIELD)


def money():
    return DecimalString(**FIELD, metadata={"description": "Rounded to cents."})


class Period(Schema):
    start = fields.Date(data_key="from", **FIELD)
    end = fields.Date(data_key="to", **FIELD)


class OpenPeriod(Schema):
    """The period as asked; null where the query left it open."""

    start = fields.Date(data_key="from", **NULLABLE)
    end = fields.Date(data_key="to", **NULLABLE)


class Estimate(Schema):
    """A statistic, or why there is none (``insufficient``): members as the method has
    them (a rate with ``k``; a mean with ``sd``; a difference with ``ci95``)."""

    n = fields.Raw(
        required=True,
        metadata={
            "oneOf": [
                {"type": "integer"},
                {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
            ],
            "description": "Observations, or those of each group compared.",
        },
    )
    insufficient = fields.String()
    k = fields.Integer()
    rate = fields.Float(allow_none=True)
    mean = fields.Float(allow_none=True)
    sd = fields.Float()
    rho = fields.Float()
    difference = fields.Float()
    df = fields.Float()
    p_value = fields.Float()
    ci95 = fields.List(fields.Float(), metadata={"minItems": 2, "maxItems": 2})


class Mean(Schema):
    n = integer()
    mean = fields.Float(**NULLABLE)
    sd = fields.Float(metadata={"description": "Present from two observations."})


class Distribution(Mean):
    distribution = counts()
