"""The ledger's arithmetic: exact sums, one rounding to the cent, bounded totals."""

import random
from datetime import UTC, datetime
from decimal import Context, localcontext
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from services.sales.ledger import amounts, sales
from shared.errors import Invalid
from shared.types import to_cents


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


def test_whole_ten_thousandths_give_the_totals_the_exact_decimals_give():
    """``cents_of`` (what a sale is recorded with) against the Decimal arithmetic
    written out: exact sums, each rounded once half-up by ``to_cents``."""
    rng = random.Random(18)
    pick = ["0", "0.0001", "0.005", "0.0050", "0.125", "0.3333", "1", "1.5", "2.345", "19.99"]
    for _ in range(3000):
        given = [
            (rng.choice(pick[1:]), rng.choice(pick), rng.choice(pick), rng.choice(pick[:4]))
            for _ in range(rng.randint(1, 6))
        ]
        scaled = [[amounts.scaled(D(text)) for text in line] for line in given]
        exact = [amounts.exact_units(*(units for _, units in line)) for line in scaled]
        if any(revenue < 0 for revenue, _, _ in exact):
            continue
        cents = amounts.cents_of(exact)
        with localcontext(Context(prec=60)):
            decimals = [(q * p - d, d, q * c) for (q, _), (p, _), (c, _), (d, _) in scaled]
            sums = [sum((line[i] for line in decimals), D(0)) for i in range(3)]
        assert [cents.revenue, cents.discount, cents.cost] == [
            int(to_cents(total).scaleb(2)) for total in sums
        ]
        for i in range(3):  # each line's share within a cent of its exact amount
            assert (
                sum(line[i] for line in cents.lines)
                == [cents.revenue, cents.discount, cents.cost][i]
            )
            for share, line in zip(cents.lines, decimals):
                assert abs(D(share[i]).scaleb(-2) - line[i]) < D("0.01")


def test_an_amount_scaled_is_the_ledger_amount_and_its_stored_form():
    assert amounts.scaled(D("3")) == (D("3.0000"), 30000)
    assert str(amounts.scaled(D("3.0"))[0]) == "3.0000"  # equal values, one answer
    assert amounts.scaled(D("1E+2")) == (D("100.0000"), 1000000)
    assert str(amounts.scaled(D("-0"))[0]) == "0.0000"
    assert amounts.scaled(D("12.3456"))[1] == 123456
    assert str(amounts.of_cents(5997)) == "59.97" and str(amounts.of_cents(0)) == "0.00"


def test_an_entry_carries_its_money_stored_and_its_event_the_amounts():
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    data = {
        "external_ref": "INV-1",
        "customer_id": "c1",
        "currency": "HKD",
        "recorded_at": None,
        "approval_reason": None,
        "lines": [
            {
                "sku": None,
                "description": "tea",
                "quantity": D("3"),
                "unit_price": D("0.005"),
                "unit_cost": D("0.0049"),
                "discount": D(0),
            }
        ],
    }
    attributed = {
        "deal_id": None,
        "source_call_id": None,
        "channel": None,
        "team": None,
        "agent_kind": None,
    }
    entry = sales.build_entry(data, {}, "smb", attributed, "s1", "me", now, ZoneInfo("UTC"))
    line = entry.lines[0]
    assert [line[name] for name in sales.LINE_MONEY] == [30000, 50, 49, 0, 200, 0, 100]
    assert [entry.sale[name] for name in sales.SALE_MONEY] == [200, 100, 0]
    assert sales.as_amounts(line, sales.LINE_MONEY)["revenue_cents"] == D("0.02")
    assert [str(entry.event["lines"][0][name]) for name in sales.AMOUNTS] == [
        "3.0000",
        "0.0050",
        "0.0049",
        "0.0000",
    ]
    assert [str(entry.event[name]) for name in ("revenue", "cost", "discount")] == [
        "0.02",
        "0.01",
        "0.00",
    ]
    assert (entry.bookings[0]["revenue"], entry.bookings[0]["discounts"]) == (200, 0)
