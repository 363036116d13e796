"""marshmallow fields every API uses: phones in E.164, e-mails checked, money as
exact decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import cast

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import DOT_ATOM_TEXT
from marshmallow import ValidationError, fields

# Keep every compiled metadata pattern instead of going through re's bounded cache,
# which an import's other patterns crowd out: a phone's check costs a sixth less.
phonenumbers.enable_pattern_cache()


class Phone(fields.String):
    """A phone number, normalised to E.164; numbers without a country code are read
    in ``region`` (Hong Kong by default)."""

    def __init__(self, region: str = "HK", **kwargs):
        super().__init__(**kwargs)
        self.region = region

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 40:
            raise ValidationError("Not a phone number: too long.")
        try:
            number = phonenumbers.parse(text, self.region)
        except phonenumbers.NumberParseException as exc:
            raise ValidationError(f"Not a phone number: {exc}.") from exc
        if not phonenumbers.is_valid_number(number):
            raise ValidationError("Not a valid phone number for its region.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class DecimalString(fields.Decimal):
    """An exact decimal, on the wire a string of digits ("12.50"); documented as one,
    its bounds as numbers (``shared.web.openapi``)."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, allow_nan=False, **kwargs)


class Money(DecimalString):
    """An exact amount sent as a string ("12.50"); floats and too many places refused."""

    def __init__(self, places: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.max_places = places

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            raise ValidationError('Send amounts as strings ("12.50"), not as JSON numbers.')
        if isinstance(value, bool):
            raise ValidationError("Not a valid amount.")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValidationError("Not a valid amount.") from exc
        if not amount.is_finite():
            raise ValidationError("Not a valid amount.")
        if -cast(int, amount.as_tuple().exponent) > self.max_places:  # finite: an int
            raise ValidationError(f"At most {self.max_places} decimal places.")
        if abs(amount) >= Decimal(10) ** 14:
            raise ValidationError("Amount out of range.")
        return amount


class Email(fields.String):
    """An e-mail address, syntax-checked (no DNS look-up) and lower-cased."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 254:
            raise ValidationError("Not an e-mail address: too long.")
        plain = _plain_address(text)
        if plain is not None:
            return plain
        try:
            return validate_email(text, check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            raise ValidationError(f"Not a valid e-mail address: {exc}") from exc


def _plain_address(text: str) -> str | None:
    """``validate_email``'s answer for the common address, whose local part is plain
    ASCII (its dot-atom rule, which it accepts as it is) at an ASCII domain it has
    accepted before; None for anything else, which then goes through
    ``validate_email`` itself. Most of its work is the domain's, and an import's
    addresses share a few domains."""
    local, at, domain = text.rpartition("@")
    if not at or DOT_ATOM_TEXT.match(local) is None:
        return None
    normal = _ascii_domain(domain)
    return None if normal is None else f"{local}@{normal}".lower()


@lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str | None:
    """The domain as ``validate_email`` normalises it, if it accepts it and it is ASCII
    in both its forms (so the address's length is the text's)."""
    try:
        checked = validate_email(f"a@{domain}", check_deliverability=False)
    except EmailNotValidError:
        return None
    return checked.domain if checked.domain == checked.ascii_domain and domain.isascii() else None
