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
from shared.types import to_cents

PLACES = Decimal("0.0001")
LIMIT = Decimal(10) ** 14
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
        sums = [sum((e[i] for e in exact), ZERO) for i in range(3)]
    too_large = [
        name
        for name, total in (("revenue", sums[0] + sums[1]), ("cost", sums[2]))
        if total >= LIMIT
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
    rounded = [to_cents(total) for total in sums]
    parts = [apportion.to_parts(rounded[i], [e[i] for e in exact]) for i in range(3)]
    return Totals(
        revenue=rounded[0], discount=rounded[1], cost=rounded[2], lines=tuple(zip(*parts))
    )
