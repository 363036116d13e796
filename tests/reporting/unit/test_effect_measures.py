"""Call effectiveness columns per customer (services.reporting.effect_measures): the
changes between the window's halves, on plain numpy arrays."""

import math

import numpy as np

from services.reporting.relationships import measures as effect_measures
from shared.types import PLACES


def columns():
    segment = np.array(["retail", "retail", "vip"])
    totals = np.array([[4, 4], [4, 1], [0, 2]])  # (planned, calls) in the window
    # (satisfaction n, Σ, propensity n, Σ) in the first and the second half
    first = np.array([[2, 6, 0, 0], [0, 0, 0, 0], [1, 2, 1, 40]])
    second = np.array([[1, 5, 1, 80], [0, 0, 2, 100], [0, 0, 1, 60]])
    revenue = np.array([[10**PLACES, 35 * 10 ** (PLACES - 1)], [0, 0], [5, 0]])
    return effect_measures.per_customer(segment, totals, first, second, revenue)


def test_the_changes_are_the_second_half_less_the_first():
    people = columns()
    assert people["planned"].tolist() == [4.0, 4.0, 0.0]
    assert people["calls"].tolist() == [4.0, 1.0, 2.0]
    # Mean satisfaction 3 then 5; unknown where either half has no score.
    assert people["d_satisfaction"][0] == 2.0
    assert math.isnan(people["d_satisfaction"][1]) and math.isnan(people["d_satisfaction"][2])
    # Money arrives in ten-thousandths and leaves in currency units.
    assert people["d_revenue"].tolist() == [2.5, 0.0, -5 / 10**PLACES]


def test_the_relationship_score_is_the_mean_of_what_is_known_of_its_parts():
    people = columns()
    # First half: satisfaction 3 → 50, no propensity → 50; second: (100 + 80) / 2 = 90.
    assert people["d_relationship"][0] == 40.0
    # Nothing known in the first half: no change can be stated.
    assert math.isnan(people["d_relationship"][1])
    # (25 + 40) / 2 = 32.5, then propensity 60 alone.
    assert people["d_relationship"][2] == 27.5


def test_a_segment_states_its_customers_correlations_cohorts_and_proposal():
    people = columns()
    found = effect_measures.segment_stats("retail", people, people["segment"] == "retail")
    assert found["segment"] == "retail" and found["customers"] == 2
    assert set(found["correlations"]) == set(effect_measures.MEASURES)
    assert all(
        c["insufficient"].startswith("too little data") for c in found["correlations"].values()
    )
    assert found["cohorts"]["on_plan"] == {"n": 1, "mean": 2.0}
    assert found["cohorts"]["under_called"] == {"n": 0, "mean": None}
    assert found["proposal"]["change"] == "none"
