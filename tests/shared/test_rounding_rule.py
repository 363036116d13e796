"""The one rounding rule for money (``shared.types.to_cents``): each ledger entry
rounded to the cent once, half away from zero, so a refund rounds exactly as the
sale it takes back; never ``-0.00``."""

from decimal import Decimal

import pytest

from shared.types import to_cents


@pytest.mark.parametrize(
    "amount, cents",
    [
        ("0.005", "0.01"),  # half a cent goes up
        ("0.0049", "0.00"),
        ("0.0050", "0.01"),
        ("2.675", "2.68"),  # exact decimals: no binary-float surprise
        ("3.1667", "3.17"),  # a staff call of 95 s at 2.00/min
        ("9.4999", "9.50"),
        ("-0.005", "-0.01"),  # a refund of half a cent mirrors the sale's
        ("-2.675", "-2.68"),
        ("-3.1667", "-3.17"),
        ("-0.004", "0.00"),  # and a refund that rounds to nothing is 0.00, not -0.00
        ("-0.0000", "0.00"),
        ("12", "12.00"),
    ],
)
def test_an_amount_rounds_to_the_cent_half_away_from_zero(amount, cents):
    rounded = to_cents(Decimal(amount))
    assert str(rounded) == cents
    assert to_cents(-Decimal(amount)) == -rounded  # symmetric: returns mirror sales


def test_rounding_each_entry_then_summing_is_the_ledger_figure_not_rounding_the_sum():
    calls = [Decimal("3.1667")] * 36  # the customer: 36 calls of 95 s at 2.00/min
    assert sum(to_cents(c) for c in calls) == Decimal("114.12")
    assert to_cents(sum(calls)) == Decimal("114.00")  # what re-deriving would report


def test_rounding_is_idempotent_on_cents():
    for text in ("0.01", "-0.01", "114.12", "-99999999999.99"):
        assert to_cents(to_cents(Decimal(text))) == Decimal(text)
