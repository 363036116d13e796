"""The sales ledger's arithmetic: exact line amounts, totals rounded once.

Quantities, unit prices and unit costs have at most four decimal places and are
kept exact (``Decimal`` in Python, ``shared.types.Money`` columns), never floats.
A line's amounts (quantity × unit price, quantity × unit cost) are computed
exactly and summed exactly; only then is each total rounded, once, to the cent
(0.01 of the currency) with ``ROUND_HALF_UP`` (half a cent goes away from zero),
by ``shared.types.to_cents``, the rule every report uses too. Rounding each line
first would drift: two lines of 0.005 make 0.01 here, not 0.02.

A total must stay below 10^14, the bound the API puts on any single amount; a sale
whose total would not is refused rather than truncated.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, Overflow, localcontext
from typing import Iterable, Mapping

from shared.errors import Invalid
from shared.types import to_cents

PLACES = Decimal("0.0001")
LIMIT = Decimal(10) ** 14
# Enough digits for 500 products of two 18-digit amounts; Inexact is trapped, so a
# sum can never be rounded silently.
_EXACT = Context(prec=60, traps=[Inexact, Overflow])


@dataclass(frozen=True)
class Totals:
    revenue: Decimal
    cost: Decimal


def amount(value: Decimal) -> Decimal:
    """An input amount at the ledger's scale: ``"3"`` and ``"3.0"`` both become 3.0000.

    Amounts here are never negative, so the absolute value only turns "-0" into 0."""
    return value.copy_abs().quantize(PLACES, context=_EXACT)


def totals(lines: Iterable[Mapping[str, Decimal]]) -> Totals:
    """Revenue and cost of a sale's lines, exact until rounded once to the cent."""
    revenue = cost = Decimal(0)
    with localcontext(_EXACT):
        for line in lines:
            revenue += line["quantity"] * line["unit_price"]
            cost += line["quantity"] * line["unit_cost"]
    too_large = [name for name, total in (("revenue", revenue), ("cost", cost))
                 if total >= LIMIT]
    if too_large:
        raise Invalid("the sale's totals are too large to record",
                      errors={"lines": [f"The sale's {' and '.join(too_large)} would reach "
                                        f"{LIMIT:,f}, more than the ledger holds."]})
    return Totals(revenue=to_cents(revenue), cost=to_cents(cost))
