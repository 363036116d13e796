"""The statistics against an independent computation on generated data with planted
effects: calls raise satisfaction in ``retail`` and do nothing in ``sme``; partner
``p-bad`` underperforms while ``p-good`` works like staff."""

import random

import pytest
from scipy import stats as sp

from services.reporting import config
from services.reporting.app import create_app
from services.reporting.handlers import subscriptions
from services.reporting.reports import stats
from services.reporting.tables import Inbox, Outbox
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from tests.conftest import auth
from tests.reporting import generate

WINDOW = {"from": "2025-01-01", "to": "2025-06-30"}
AUGUST = {"from": "2025-08-01", "to": "2025-08-31"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Every generated event, shuffled (a sale before its customer, a completion
    before its schedule) and one in five delivered twice."""
    url = f"sqlite:///{tmp_path_factory.mktemp('stats') / 'reporting.db'}"
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    db = Database(url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    calls, effect = generate.effectiveness_stream()
    partner_calls, parity = generate.parity_stream()
    events = calls + partner_calls + generate.commerce_stream()
    rng = random.Random(3)
    events += rng.sample(events, len(events) // 5)
    rng.shuffle(events)
    for event in events:
        dispatcher.dispatch(event)
    app = create_app({"DATABASE_URL": url, "DEV_MODE": "1"})
    yield app.test_client(), effect, parity
    db.dispose()


def report(client, name, **query):
    r = client.get(f"/api/v1/reports/{name}", headers=auth("analyst"), query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def segment(body, name):
    return next(s for s in body["segments"] if s["segment"] == name)


@pytest.mark.parametrize("name", ["retail", "sme"])
def test_spearman_matches_an_independent_computation(world, name):
    client, truth, _ = world
    people = [p for p in truth.values() if p["segment"] == name]
    expected = sp.spearmanr([p["calls"] for p in people], [p["d_satisfaction"] for p in people])
    got = segment(report(client, "call-effectiveness", **WINDOW), name)["correlations"]
    assert got["satisfaction"]["n"] == len(people)
    assert got["satisfaction"]["rho"] == pytest.approx(expected.statistic, abs=1e-4)
    assert got["satisfaction"]["p_value"] == pytest.approx(expected.pvalue, rel=1e-3)


def test_the_planted_effect_is_found_and_none_is_invented(world):
    client, _, _ = world
    body = report(client, "call-effectiveness", **WINDOW)
    retail, sme = segment(body, "retail"), segment(body, "sme")
    assert retail["correlations"]["satisfaction"]["ci95"][0] > 0
    assert retail["proposal"]["change"] == "keep_or_increase"
    low, high = sme["correlations"]["satisfaction"]["ci95"]
    assert low < 0 < high
    assert sme["proposal"]["change"] == "reduce"
    assert "no measurable effect" in sme["proposal"]["reason"]


def test_on_plan_against_under_called_is_welch(world):
    client, truth, _ = world
    people = [p for p in truth.values() if p["segment"] == "retail"]
    on_plan = [p["d_satisfaction"] for p in people if p["calls"] >= p["planned"]]
    under = [p["d_satisfaction"] for p in people if p["calls"] < p["planned"]]
    expected = sp.ttest_ind(on_plan, under, equal_var=False)
    interval = expected.confidence_interval(0.95)
    got = segment(report(client, "call-effectiveness", **WINDOW), "retail")["cohorts"]
    assert got["difference"]["n"] == [len(on_plan), len(under)]
    assert got["difference"]["difference"] == pytest.approx(
        sum(on_plan) / len(on_plan) - sum(under) / len(under), abs=1e-4
    )
    assert got["difference"]["ci95"] == pytest.approx([interval.low, interval.high], abs=1e-3)
    assert got["difference"]["p_value"] == pytest.approx(expected.pvalue, rel=1e-3)


def test_the_underperforming_partner_is_flagged_and_the_other_is_not(world):
    client, _, truth = world
    body = report(client, "outsourcers", **AUGUST)
    assert body["flagged"] == ["p-bad"]
    bad = next(p for p in body["partners"] if p["partner"] == "p-bad")
    assert {"contact_rate", "satisfaction", "complaint_rate"} <= set(bad["below_parity"])
    scores = {
        name: [c["satisfaction"] for c in calls if c["satisfaction"] is not None]
        for name, calls in truth.items()
    }
    expected = sp.ttest_ind(scores["p-bad"], scores["staff"], equal_var=False)
    got = bad["difference_from_staff"]["satisfaction"]
    assert got["ci95"] == pytest.approx(list(expected.confidence_interval(0.95)), abs=1e-3)
    contacts = sum(c["outcome"] != "no_answer" for c in truth["staff"])
    assert body["staff"]["contact_rate"] == {
        **body["staff"]["contact_rate"],
        "k": contacts,
        "n": len(truth["staff"]),
    }


def test_too_little_data_is_said_in_words(world):
    client, _, _ = world
    body = report(client, "call-effectiveness", **WINDOW, segment="retail-nobody")
    assert body["segments"] == [] and "insufficient" in body["all"]["correlations"]["satisfaction"]
    assert "no proposal" in body["all"]["proposal"]["reason"]


def test_wilson_and_newcombe_match_published_values():
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 vs 48/80.
    got = stats.newcombe(56, 70, 48, 80)
    assert got["difference"] == pytest.approx(0.2) and got["ci95"] == pytest.approx(
        [0.0524, 0.3339], abs=1e-4
    )
    assert stats.wilson(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)
    assert stats.newcombe(1, 5, 2, 5)["insufficient"].startswith("too little data")


def test_spearman_interval_is_fisher_z_and_states_n():
    x = list(range(30))
    y = [v + (7 if v % 3 else -7) for v in x]
    got = stats.spearman(x, y)
    rho = sp.spearmanr(x, y).statistic
    import math

    half = 1.959964 * math.sqrt(1.06 / 27)
    assert got["n"] == 30 and got["ci95"] == pytest.approx(
        [math.tanh(math.atanh(rho) - half), math.tanh(math.atanh(rho) + half)], abs=1e-4
    )
    assert stats.spearman([1, 2], [2, 1]) == stats.too_few(2)
