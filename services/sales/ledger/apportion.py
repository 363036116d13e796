"""Splitting an amount in cents so that every cent lands on exactly one part.

Largest remainder (Hamilton's method): each part first gets its exact share
rounded down to the cent; the cents still missing from the total go one each to
the parts with the largest remainders, ties to the earlier part. The parts always
sum to the total exactly. All arithmetic is on integers (cents, or exact weights),
never floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

CENT = Decimal("0.01")
_FINE = 10**8  # line amounts (four places × four places) are exact in 1e-8 units


def by_weights(total_cents: int, weights: Sequence[int]) -> list[int]:
    """``total_cents`` split in proportion to non-negative integer ``weights``."""
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("nothing to apportion to: every weight is zero")
    shares = [total_cents * w // whole for w in weights]
    remainders = [total_cents * w % whole for w in weights]
    _give_missing(shares, remainders, total_cents - sum(shares))
    return shares


def to_parts(total: Decimal, exact_parts: Sequence[Decimal]) -> list[Decimal]:
    """A total already rounded to the cent, split over the exact amounts it was
    rounded from: each part within a cent of its exact amount."""
    scaled = [part.scaleb(8) for part in exact_parts]
    fine = [int(part) for part in scaled]
    if fine != scaled:  # element by element, an int against its exact Decimal
        raise ValueError("a part has more than eight decimal places")
    shares = cents_of_parts(int(total.scaleb(2)), fine)
    return [Decimal(s).scaleb(-2) for s in shares]


def cents_of_parts(total_cents: int, fine_parts: Sequence[int]) -> list[int]:
    """``to_parts`` in whole numbers: ``total_cents`` split over exact amounts given
    in 1e-8 units."""
    per_cent = _FINE // 100
    shares = [f // per_cent for f in fine_parts]
    missing = total_cents - sum(shares)
    if missing:  # most lines' amounts are whole cents
        _give_missing(shares, [f % per_cent for f in fine_parts], missing)
    return shares


def _give_missing(shares: list[int], remainders: list[int], missing: int) -> None:
    if not 0 <= missing <= len(shares):
        raise ValueError(f"cannot apportion: {missing} cents for {len(shares)} parts")
    if not missing:  # the parts were whole cents (most lines' amounts)
        return
    order = sorted(range(len(shares)), key=lambda i: (-remainders[i], i))
    for i in order[:missing]:
        shares[i] += 1


def cumulative_share(
    cents: Decimal, taken_before: Decimal, taken_after: Decimal, whole: Decimal
) -> Decimal:
    """The cents of ``cents`` that go with taking ``taken_before`` → ``taken_after``
    of ``whole`` units: the difference of the two cumulative shares, each rounded
    half-up. Taking all of it in any number of steps adds up to ``cents`` exactly."""

    def upto(taken: Decimal) -> int:
        exact = Fraction(int(cents.scaleb(2))) * Fraction(taken) / Fraction(whole)
        return int((2 * exact + 1) // 2)  # half-up, for amounts that are never negative

    return Decimal(upto(taken_after) - upto(taken_before)).scaleb(-2)
