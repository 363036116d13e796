"""Amounts of money as the calls service writes them: a fee or a call's cost."""

from __future__ import annotations

from decimal import Decimal

from marshmallow import fields


def money_text(value: Decimal | None) -> str | None:
    """A stored amount as written: at least cents, no trailing zeros beyond them."""
    if value is None:
        return None
    exact = value.normalize()
    return str(exact if exact.as_tuple().exponent < -2 else value.quantize(Decimal("0.01")))


def money_field(name: str):
    """A dump field answering the attribute ``name`` as a decimal string."""
    return fields.Function(
        lambda obj: money_text(getattr(obj, name)),
        allow_none=True,
        metadata={"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"},
    )
