"""The ledger's arithmetic: exact sums, one rounding to the cent, bounded totals."""

from decimal import Decimal as D

import pytest

from services.sales.ledger import amounts
from shared.errors import Invalid


def lines(*triples):
    return [{"quantity": D(q), "unit_price": D(p), "unit_cost": D(c)} for q, p, c in triples]


def test_totals_are_exact_sums_rounded_once_half_up():
    assert amounts.totals(lines(("3", "19.99", "7.5"))) == amounts.Totals(D("59.97"), D("22.50"))
    assert amounts.totals(lines(("1", "0.005", "0"), ("1", "0.005", "0"))).revenue == D("0.01")
    assert amounts.totals(lines(("1", "0.005", "0.0049"))) == amounts.Totals(D("0.01"), D("0.00"))
    assert amounts.totals(lines(("3", "0.3333", "0"))).revenue == D("1.00")


def test_the_largest_amounts_multiply_without_losing_a_digit():
    big = D("99999999999999.9999")
    assert amounts.totals(lines(("0.0001", "12.3456", "0"))).revenue == D("0.00")
    with pytest.raises(Invalid) as refused:
        amounts.totals(lines((big, big, "0")))
    assert "lines" in refused.value.errors
    just_under = amounts.totals(lines(("1", "99999999999999.9949", "0")))
    assert just_under.revenue == D("99999999999999.99")


def test_amounts_take_the_ledger_scale():
    assert str(amounts.amount(D("3"))) == "3.0000"
    assert str(amounts.amount(D("1E+2"))) == "100.0000"
    assert str(amounts.amount(D("-0"))) == "0.0000"
