"""The relationship score (services.customer.relationship.score) on customers held in
memory: ``0.5·S + 0.3·P + 0.2·V`` with satisfaction mapped from 1–5 to 0–100, the
latest propensity, and the lifetime margin on a log scale capped at 100,000."""

from decimal import Decimal

import pytest

from services.customer.profiles.tables import Customer
from services.customer.relationship.relationship import score


def customer(satisfaction=None, propensity=None, margin=None) -> Customer:
    return Customer(satisfaction_avg=satisfaction, propensity=propensity, lifetime_margin=margin)


def test_the_best_customer_scores_100_and_the_worst_0():
    assert score(customer(5.0, 100, Decimal("100000"))) == 100.0
    assert score(customer(1.0, 0, Decimal("0"))) == 0.0


def test_satisfaction_and_propensity_not_yet_known_count_as_50():
    assert score(customer(None, None, Decimal("100000"))) == 0.5 * 50 + 0.3 * 50 + 0.2 * 100
    # No margin counts as none at all: V is 0, not 50.
    assert score(customer()) == 40.0


def test_each_component_carries_its_weight():
    base = score(customer(3.0, 50, Decimal("0")))
    assert score(customer(4.0, 50, Decimal("0"))) - base == pytest.approx(0.5 * 25)
    assert score(customer(3.0, 60, Decimal("0"))) - base == pytest.approx(0.3 * 10)
    assert score(customer(3.0, 50, Decimal("99"))) - base == pytest.approx(0.2 * 100 * 2 / 5)


def test_margin_beyond_100000_adds_nothing_and_a_loss_counts_as_no_margin():
    assert score(customer(3.0, 50, Decimal("5000000"))) == score(
        customer(3.0, 50, Decimal("100000"))
    )
    assert score(customer(3.0, 50, Decimal("-2500"))) == score(customer(3.0, 50, Decimal("0")))


def test_the_score_is_rounded_to_two_places():
    assert score(customer(4.2, 70, Decimal("999"))) == 73.0
    assert score(customer(3.11, 40, Decimal("0"))) == round(0.5 * 2.11 * 25 + 0.3 * 40, 2)
