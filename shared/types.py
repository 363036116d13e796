"""Column types every service shares."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import BigInteger, DateTime, TypeDecorator


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always read back time-zone aware.

    SQLite keeps no zone; without this, values come back naive and comparisons
    with aware datetimes fail."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Rapport stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


PLACES = 4
_STEP = Decimal(1).scaleb(-PLACES)
_SCALE = 10**PLACES
CENT = Decimal("0.01")


class Money(TypeDecorator):
    """An exact ``Decimal`` stored as a whole number of ten-thousandths (BIGINT).

    Sums the database does (``SUM(revenue)``, ``revenue = revenue + :x``) are then
    integer arithmetic on SQLite and PostgreSQL alike; a NUMERIC column on SQLite
    is a float. Four places let unit prices and costs be finer than a cent; an
    amount with more is rounded half-up to four (the APIs refuse such input)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if type(value) is int:  # whole amounts (read-model zeros, most of them) exactly
            return value * _SCALE
        if type(value) is Decimal and value.is_finite():
            # Four places or fewer (every amount the APIs take): exact as it is, a
            # third of the time of the quantize below.
            scaled = value.scaleb(PLACES)
            whole = int(scaled)
            if whole == scaled:
                return whole
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        return int(amount.quantize(_STEP, rounding=ROUND_HALF_UP).scaleb(PLACES))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-PLACES)


def to_cents(amount: Decimal) -> Decimal:
    """The one rounding rule for money, in every service: to the cent, half-up (half
    a cent away from zero, so a refund rounds as the sale it takes back); never
    ``-0.00``.

    The sales ledger applies it to each entry once, when the entry is recorded (a
    sale's totals, each return's refund, each call's cost, each allocation share);
    events carry the rounded amounts and reporting counts them as they are,
    rounding by this same rule only what arrives finer than a cent (a call's cost
    from the calls service), entry by entry. Every figure after that is an exact
    sum of cents, which both services' P&L report as they are (see docs/sales.md,
    "The rounding rule, applied once")."""
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded
