"""How the sales schemas write what they all share, at the edges (marshmallow).

Money comes in as decimal strings (``shared.web.fields.Money`` refuses floats and
more than four places) and goes out as strings; a currency is an ISO 4217 code.
"""

from marshmallow import fields, validate

CURRENCY = validate.Regexp(
    r"^[A-Z]{3}$", error="An ISO 4217 currency code: three upper-case letters."
)
CUSTOMER_ID = validate.Length(min=1, max=64)
# apispec documents a Decimal as a number; on the wire it is a string.
DECIMAL_STRING = {"type": "string", "format": "decimal"}
TEXT = validate.Length(min=1, max=500)


def amount_field(places: int, **kwargs):
    return fields.Decimal(places=places, as_string=True, metadata=DECIMAL_STRING, **kwargs)
