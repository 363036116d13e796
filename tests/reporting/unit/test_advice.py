"""The call-frequency proposal per segment (services.reporting.advice): made only on
a measured basis, and the direction follows the 95% intervals, not the point values."""

from services.reporting.relationships import advice

TOO_FEW = {"n": 4, "insufficient": "too little data: n = 4, at least 10 needed"}
NO_COHORT = {"difference": TOO_FEW}


def rho(low, high, value=None):
    return {
        "n": 40,
        "rho": value if value is not None else (low + high) / 2,
        "ci95": [low, high],
        "p_value": 0.01,
    }


def test_too_little_data_proposes_nothing_and_says_why():
    proposal = advice.propose(
        "retail", {"satisfaction": TOO_FEW, "relationship": TOO_FEW, "revenue": TOO_FEW}, NO_COHORT
    )
    assert proposal["change"] == "none"
    assert "Too little data in segment 'retail'" in proposal["reason"]
    assert "n = 4" in proposal["reason"]


def test_an_interval_above_zero_keeps_or_raises_the_frequency():
    proposal = advice.propose(
        "retail",
        {"satisfaction": rho(0.1, 0.5), "relationship": rho(-0.2, 0.3), "revenue": TOO_FEW},
        NO_COHORT,
    )
    assert proposal["change"] == "keep_or_increase"
    assert "satisfaction: rho = 0.3 (95% CI 0.1 to 0.5, n = 40, p = 0.01)" in proposal["reason"]
    assert "revenue" not in proposal["reason"]  # not measured, not described
    assert "under-called customers back to plan" not in proposal["reason"]


def test_customers_called_as_planned_doing_better_adds_bringing_them_back_to_plan():
    cohorts = {"difference": {"n": [30, 20], "difference": 0.4, "ci95": [0.1, 0.7]}}
    proposal = advice.propose("retail", {"satisfaction": rho(0.1, 0.5)}, cohorts)
    assert proposal["change"] == "keep_or_increase"
    assert "bring under-called customers back to plan first" in proposal["reason"]


def test_an_interval_below_zero_asks_for_a_review_not_a_change():
    proposal = advice.propose(
        "vip", {"satisfaction": rho(-0.6, -0.1), "relationship": rho(-0.3, 0.2)}, NO_COHORT
    )
    assert proposal["change"] == "review"
    assert "worsening relationship" in proposal["reason"]


def test_a_positive_interval_outweighs_a_negative_one():
    proposal = advice.propose(
        "vip", {"satisfaction": rho(-0.6, -0.1), "revenue": rho(0.2, 0.4)}, NO_COHORT
    )
    assert proposal["change"] == "keep_or_increase"


def test_every_interval_spanning_zero_proposes_calling_less_often():
    proposal = advice.propose(
        "smb",
        {"satisfaction": rho(-0.2, 0.3, value=0.25), "relationship": rho(-0.1, 0.1)},
        NO_COHORT,
    )
    assert proposal["change"] == "reduce"
    assert "every 95% interval includes 0" in proposal["reason"]
