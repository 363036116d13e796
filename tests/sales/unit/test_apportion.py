"""Largest-remainder apportioning: every cent lands on exactly one part."""

import random
from decimal import Decimal as D

import pytest

from services.sales.ledger import apportion


def test_shares_by_weight_always_sum_to_the_total():
    rng = random.Random(7)
    for _ in range(2000):
        weights = [rng.randint(0, 10 ** rng.randint(0, 9)) for _ in range(rng.randint(1, 40))]
        if not any(weights):
            continue
        total = rng.randint(0, 10**12)
        shares = apportion.by_weights(total, weights)
        assert sum(shares) == total
        whole = sum(weights)
        for share, weight in zip(shares, weights):  # each within a cent of its exact share
            assert abs(share * whole - total * weight) < whole


def test_ties_go_to_the_earlier_part_and_zero_weights_get_nothing():
    assert apportion.by_weights(100, [1, 1, 1]) == [34, 33, 33]
    assert apportion.by_weights(2, [0, 1, 1, 1]) == [0, 1, 1, 0]
    with pytest.raises(ValueError):
        apportion.by_weights(100, [0, 0])


def test_a_rounded_total_splits_over_its_exact_parts():
    assert apportion.to_parts(D("0.01"), [D("0.005"), D("0.005")]) == [D("0.01"), D("0.00")]
    assert apportion.to_parts(D("1.00"), [D("0.3333")] * 3) == [D("0.34"), D("0.33"), D("0.33")]
    rng = random.Random(3)
    for _ in range(1000):
        parts = [D(rng.randint(0, 10**12)).scaleb(-8) for _ in range(rng.randint(1, 30))]
        total = sum(parts).quantize(D("0.01"), rounding="ROUND_HALF_UP")
        split = apportion.to_parts(total, parts)
        assert sum(split) == total
        assert all(abs(s - p) < D("0.01") for s, p in zip(split, parts))


def test_cumulative_shares_add_up_to_the_whole_in_any_steps():
    rng = random.Random(11)
    for _ in range(500):
        amount = D(rng.randint(0, 10**8)).scaleb(-2)
        whole = D(rng.randint(1, 10**6)).scaleb(-4)
        taken, total = D(0), D(0)
        while taken < whole:
            step = min(whole - taken, D(rng.randint(1, 10**6)).scaleb(-4))
            total += apportion.cumulative_share(amount, taken, taken + step, whole)
            taken += step
        assert total == amount
