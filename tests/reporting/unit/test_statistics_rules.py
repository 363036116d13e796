"""The statistics the reports state (services.reporting.stats), on plain numbers:
the intervals against published worked examples and against scipy on raw data, and
the rule that a result below the minimum n says so instead of giving a number."""

import math

import pytest
from scipy import stats as scipy_stats

from services.reporting.reports import stats


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        # Newcombe (1998), "Two-sided confidence intervals for the single proportion",
        # Table I, the score method without continuity correction.
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_intervals_match_newcombes_worked_examples(k, n, low, high):
    found = stats.wilson(k, n)
    assert found == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_a_proportion_of_nothing_has_no_rate_and_the_interval_spans_everything():
    assert stats.proportion(0, 0) == {"n": 0, "k": 0, "rate": None}
    assert stats.wilson(0, 0) == (0.0, 1.0)


def test_a_proportion_states_its_rate_and_interval_to_four_places():
    assert stats.proportion(3, 12) == {"n": 12, "k": 3, "rate": 0.25, "ci95": [0.0889, 0.5323]}


def test_a_difference_of_proportions_matches_newcombes_hybrid_score_example():
    # Newcombe (1998), "Interval estimation for the difference between independent
    # proportions", Table II, example (a), method 10: 56/70 against 48/80.
    found = stats.newcombe(56, 70, 48, 80)
    assert found["n"] == [70, 80]
    assert found["difference"] == 0.2
    assert found["ci95"] == [0.0524, 0.3339]
    pooled = 104 / 150
    z = 0.2 / math.sqrt(pooled * (1 - pooled) * (1 / 70 + 1 / 80))
    assert found["p_value"] == pytest.approx(2 * scipy_stats.norm.sf(z), rel=1e-3)


def sums(values):
    return len(values), float(sum(values)), float(sum(v * v for v in values))


def test_welch_from_sums_agrees_with_scipy_on_the_raw_values():
    a = [4.1, 5.2, 6.3, 5.8, 4.9, 6.1, 5.5, 7.0, 4.4, 5.9, 6.6]
    b = [3.9, 4.2, 5.1, 3.3, 4.8, 4.0, 3.6, 4.5, 5.0, 3.8]
    found = stats.welch(sums(a), sums(b))
    expected = scipy_stats.ttest_ind(a, b, equal_var=False)
    interval = expected.confidence_interval(0.95)
    assert found["n"] == [11, 10]
    assert found["difference"] == pytest.approx(sum(a) / 11 - sum(b) / 10, abs=5e-5)
    assert found["df"] == pytest.approx(expected.df, abs=0.05)
    assert found["ci95"] == [
        pytest.approx(interval.low, abs=5e-5),
        pytest.approx(interval.high, abs=5e-5),
    ]
    assert found["p_value"] == pytest.approx(expected.pvalue, rel=1e-3)


def test_welch_without_spread_gives_the_difference_itself():
    same = stats.welch(sums([2.0] * 10), sums([2.0] * 12))
    assert same == {"n": [10, 12], "difference": 0.0, "ci95": [0.0, 0.0], "p_value": 1.0}
    apart = stats.welch(sums([3.0] * 10), sums([2.0] * 12))
    assert apart["ci95"] == [1.0, 1.0] and apart["p_value"] == 0.0


def test_spearman_interval_is_fishers_z_with_the_fieller_hartley_pearson_error():
    x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    y = [2, 1, 4, 3, 6, 5, 8, 7, 12, 9, 10, 11]
    found = stats.spearman(x, y)
    rho = scipy_stats.spearmanr(x, y).statistic
    z, se = math.atanh(rho), math.sqrt(1.06 / 9)
    assert found["n"] == 12
    assert found["rho"] == pytest.approx(rho, abs=5e-5)
    assert found["ci95"] == [
        pytest.approx(math.tanh(z - 1.959964 * se), abs=5e-4),
        pytest.approx(math.tanh(z + 1.959964 * se), abs=5e-4),
    ]
    assert found["ci95"][0] < found["rho"] < found["ci95"][1]


def test_a_perfect_rank_agreement_keeps_a_finite_interval():
    found = stats.spearman(list(range(12)), [v * v for v in range(12)])
    assert found["rho"] == 1.0 and found["ci95"] == [1.0, 1.0]


@pytest.mark.parametrize(
    ("result", "n"),
    [
        (lambda: stats.spearman(list(range(9)), list(range(9))), 9),
        (lambda: stats.welch(sums([1.0, 2.0] * 5), sums([1.0, 2.0, 3.0])), 3),
        (lambda: stats.newcombe(5, 9, 5, 40), 9),
    ],
)
def test_below_the_minimum_n_a_result_says_so_in_words(result, n):
    assert result() == {
        "n": n,
        "insufficient": f"too little data: n = {n}, at least {stats.MIN_N} needed",
    }


def test_spearman_needs_variation_in_both_variables():
    assert stats.spearman(list(range(12)), [5] * 12) == {
        "n": 12,
        "insufficient": "no variation in one of the variables",
    }


def test_a_mean_states_its_spread_only_from_two_observations():
    assert stats.mean_of(0, 0.0, 0.0) == {"n": 0, "mean": None}
    assert stats.mean_of(1, 5.0, 25.0) == {"n": 1, "mean": 5.0}
    assert stats.mean_of(3, 6.0, 14.0) == {"n": 3, "mean": 2.0, "sd": 1.0}


def test_moments_never_give_a_negative_variance_from_rounding():
    # Σx² a hair below n·mean², as summing floats can leave it.
    assert stats.moments(2, 2.0, 2.0 - 1e-12) == (1.0, 0.0)
    assert stats.moments(3, 6.0, 14.0) == (2.0, 1.0)
