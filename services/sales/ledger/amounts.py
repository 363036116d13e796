"""The sales ledger's arithmetic: exact line amounts, totals rounded once.

Quantities, unit prices, unit costs and discounts have at most four decimal places
and are kept exact (``Decimal`` in Python, ``shared.types.Money`` columns), never
floats. A line's amounts (quantity × unit price − discount, quantity × unit cost)
are computed exactly and summed exactly; only then is each total rounded, once, to
the cent (0.01 of the currency) with ``ROUND_HALF_UP`` (half a cent goes away from
zero), by ``shared.types.to_cents``, the rule every report uses too. Rounding each
line first would drift: two lines of 0.005 make 0.01 here, not 0.02.

Each line then gets its cent share of those totals by largest remainder
(``apportion.to_parts``), so the lines add up to the sale exactly and a P&L by
product reconciles with one by customer to the cent. A line's ``discount`` is an
amount off the line (not per unit), at most the line's gross amount.

A total must stay below 10^14, the bound the API puts on any single amount; a sale
whose total would not is refused rather than truncated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact, Overflow, localcontext

from services.sales.ledger import apportion
from shared.errors import Invalid

PLACES = Decimal("0.0001")
PLACES_OF_UNITS = 4
# Whole ten-thousandths of an amount: ``shared.types.Money``'s stored form. A line's
# exact amounts (four places × four places) are whole in FINE units.
UNITS = 10**PLACES_OF_UNITS
FINE = UNITS * UNITS
_PER_CENT = FINE // 100
LIMIT = Decimal(10) ** 14
_LIMIT_FINE = 10**14 * FINE
ZERO = Decimal(0)
# Enough digits for 500 products of two 18-digit amounts; Inexact is trapped, so a
# sum can never be rounded silently.
_EXACT = Context(prec=60, traps=[Inexact, Overflow])


@dataclass(frozen=True)
class Totals:
    revenue: Decimal
    cost: Decimal
    discount: Decimal = ZERO
    # Each line's cent share of revenue, discount and cost, in line order.
    lines: tuple = field(default=(), compare=False)


def amount(value: Decimal) -> Decimal:
    """An input amount at the ledger's scale: ``"3"`` and ``"3.0"`` both become 3.0000.

    Amounts here are never negative, so the absolute value only turns "-0" into 0."""
    return value.copy_abs().quantize(PLACES, context=_EXACT)


def exact_line(line: Mapping[str, Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """(net revenue, discount, cost) of one line, exact."""
    with localcontext(_EXACT):
        discount = line.get("discount") or ZERO
        return (
            line["quantity"] * line["unit_price"] - discount,
            discount,
            line["quantity"] * line["unit_cost"],
        )


def totals(lines: Iterable[Mapping[str, Decimal]]) -> Totals:
    """Revenue (net of discounts), discount and cost of a sale's lines, exact until
    rounded once to the cent, with each line's share of them."""
    return totals_of([exact_line(line) for line in lines])


def totals_of(exact: list[tuple[Decimal, Decimal, Decimal]]) -> Totals:
    """``totals`` of lines already made exact (``exact_line``)."""
    with localcontext(_EXACT):
        fine = [tuple(_fine(amount) for amount in line) for line in exact]
    cents = cents_of(fine)
    return Totals(
        revenue=of_cents(cents.revenue),
        discount=of_cents(cents.discount),
        cost=of_cents(cents.cost),
        lines=tuple(tuple(of_cents(part) for part in line) for line in cents.lines),
    )


@dataclass(frozen=True)
class Cents:
    """A sale's totals in whole cents, and each line's (revenue, discount, cost) share."""

    revenue: int
    discount: int
    cost: int
    lines: tuple


def scaled(value: Decimal) -> tuple[Decimal, int]:
    """``amount(value)``, and the same in whole ten-thousandths (``UNITS``, the stored
    form of a ``Money`` column). Remembered per value: an invoice export repeats its
    quantities and prices. Equal values (``3`` and ``3.0``) share an answer, as they
    share ``amount``'s."""
    found = _SCALED.get(value)
    if found is None:
        exact = amount(value)
        found = (exact, int(exact.scaleb(PLACES_OF_UNITS)))
        if len(_SCALED) >= _SCALED_MAX:
            _SCALED.clear()
        _SCALED[value] = found
    return found


_SCALED: dict[Decimal, tuple[Decimal, int]] = {}
_SCALED_MAX = 50_000


def exact_units(quantity: int, price: int, cost: int, discount: int) -> tuple[int, int, int]:
    """``exact_line`` of a line given in ten-thousandths (``scaled``): (net revenue,
    discount, cost), exact, in ``FINE`` units."""
    return quantity * price - discount * UNITS, discount * UNITS, quantity * cost


def cents_of(exact: list[tuple[int, int, int]]) -> Cents:
    """``totals`` of lines given as ``exact_units``: each total rounded once to the
    cent (half-up, ``shared.types.to_cents``'s rule), each line's share apportioned."""
    columns = list(zip(*exact)) or [(), (), ()]  # revenues, discounts, costs
    sums = [sum(column) for column in columns]
    too_large = [
        name
        for name, total in (("revenue", sums[0] + sums[1]), ("cost", sums[2]))
        if total >= _LIMIT_FINE
    ]
    if too_large:
        raise Invalid(
            "the sale's totals are too large to record",
            errors={
                "lines": [
                    f"The sale's {' and '.join(too_large)} would reach "
                    f"{LIMIT:,f}, more than the ledger holds."
                ]
            },
        )
    rounded = [_to_cents(total) for total in sums]
    parts = [apportion.cents_of_parts(total, column) for total, column in zip(rounded, columns)]
    return Cents(revenue=rounded[0], discount=rounded[1], cost=rounded[2], lines=tuple(zip(*parts)))


def _to_cents(fine: int) -> int:
    """``to_cents`` of an amount in ``FINE`` units, as whole cents: half a cent away
    from zero."""
    cents = (abs(fine) + _PER_CENT // 2) // _PER_CENT
    return cents if fine >= 0 else -cents


def _fine(value: Decimal) -> int:
    scaled = value.scaleb(2 * PLACES_OF_UNITS)
    whole = int(scaled)
    if whole != scaled:
        raise ValueError("a line amount has more than eight decimal places")
    return whole


def of_cents(cents: int) -> Decimal:
    """Whole cents as the amount ``to_cents`` gives (two places)."""
    return Decimal(cents).scaleb(-2)
