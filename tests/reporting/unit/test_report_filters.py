"""Every filter of the call reports applies to every figure they answer, or is
refused: a filtered answer equals the one computed here from only the matching
events (``tests/reporting/dimensions``), with data in two values of each dimension;
a filter a report cannot apply answers 422 naming it. The sales report's filters:
``test_report_filters_sales``."""

import statistics
from collections import Counter

import pytest

from services.reporting import config
from services.reporting.app import create_app
from services.reporting.handlers import subscriptions
from services.reporting.tables import Inbox, Outbox
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from tests.conftest import auth
from tests.reporting import dimensions as d

FILTERS = [(name, value) for name, values in d.VALUES.items() for value in values]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('filters') / 'reporting.db'}"
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    db = Database(url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    events, calls, sales, deals = d.world()
    for e in events:
        dispatcher.dispatch(e)
    yield create_app({"DATABASE_URL": url, "DEV_MODE": "1"}).test_client(), calls, sales, deals
    db.dispose()


def get(client, name, **query):
    return client.get(f"/api/v1/reports/{name}", headers=auth("analyst"), query_string=query)


def report(client, name, **query):
    r = get(client, name, **query)
    assert r.status_code == 200, r.json
    return r.json


def done_in_period(calls):
    return [r for r in calls if d.in_period(r["day"])]


@pytest.mark.parametrize("name, value", FILTERS)
def test_activity_filtered_equals_the_matching_calls_alone(world, name, value):
    client, calls, _, _ = world
    body = report(client, "activity", **d.PERIOD, **{name: value})
    mine = d.matching(calls, **{name: value})
    done = done_in_period(mine)
    expected = {
        "planned": sum(d.in_period(r["due_day"]) for r in mine),
        "completed": len(done),
        "missed": sum(d.in_period(r["due_day"]) for r in mine if r.get("missed")),
        "on_time": sum(
            d.in_period(r["due_day"]) and r["day"] is not None and r["day"] <= r["due_day"]
            for r in mine
        ),
        "outcomes": dict(Counter(r["outcome"] for r in done)),
    }
    assert {k: body["totals"][k] for k in expected} == expected
    assert body["totals"]["adherence"] == round(expected["on_time"] / expected["planned"], 4)
    assert expected["completed"] and expected["planned"]  # the filter has data to keep
    assert sum(day["completed"] for day in body["days"]) == expected["completed"]


@pytest.mark.parametrize("name", list(d.VALUES))
def test_activity_grouped_by_a_dimension_splits_into_its_filtered_answers(world, name):
    client, _calls, _, _ = world
    groups = {g["key"]: g for g in report(client, "activity", **d.PERIOD, group_by=name)["groups"]}
    for value in d.VALUES[name]:
        filtered = report(client, "activity", **d.PERIOD, **{name: value})["totals"]
        assert groups[value] == {"key": value, **filtered}


def _mean(values):
    values = [v for v in values if v is not None]
    return len(values), round(statistics.fmean(values), 4) if values else None


@pytest.mark.parametrize("name, value", FILTERS)
def test_findings_filtered_equal_the_matching_calls_alone(world, name, value):
    """Competitor mentions included: they honour team, channel, agent kind and
    partner as the outcome mix and the scores do."""
    client, calls, _, _ = world
    body = report(client, "findings", **d.PERIOD, **{name: value})
    done = done_in_period(d.matching(calls, **{name: value}))
    assert body["calls"] == len(done) > 0
    assert {o["outcome"]: o["calls"] for o in body["outcomes"]} == Counter(
        r["outcome"] for r in done
    )
    for measure in ("satisfaction", "propensity"):
        n, mean = _mean(r[measure] for r in done)
        assert (body[measure]["n"], body[measure]["mean"]) == (n, mean)
    sat = Counter(r["satisfaction"] for r in done if r["satisfaction"])
    assert body["satisfaction"]["distribution"] == {str(s): sat[s] for s in range(1, 6)}
    assert {c["competitor"]: c["mentions"] for c in body["competitors"]} == d.mentions(done)
    everyone = report(client, "findings", **d.PERIOD)
    assert sum(c["mentions"] for c in body["competitors"]) < sum(
        c["mentions"] for c in everyone["competitors"]
    )


@pytest.mark.parametrize(
    "name, value", [f for f in FILTERS if f[0] in ("segment", "channel", "team")]
)
def test_outsourcers_filtered_equal_the_matching_calls_alone(world, name, value):
    client, calls, _, _ = world
    body = report(client, "outsourcers", **d.PERIOD, **{name: value})
    done = done_in_period(d.matching(calls, **{name: value}))
    groups = {"staff": body["staff"], **{p["partner"]: p["metrics"] for p in body["partners"]}}
    assert set(groups) == {"staff", "p1", "p2"}
    for group, metrics in groups.items():
        mine = [r for r in done if r["partner"] == ("" if group == "staff" else group)]
        contacts = [r for r in mine if r["outcome"] not in d.NOT_CONTACTED]
        converted = [r for r in contacts if r["outcome"] in ("interested", "sale_opportunity")]
        assert (metrics["contact_rate"]["k"], metrics["contact_rate"]["n"]) == (
            len(contacts),
            len(mine),
        )
        assert (metrics["conversion"]["k"], metrics["conversion"]["n"]) == (
            len(converted),
            len(contacts),
        )
        assert metrics["complaint_rate"]["k"] == sum(r["outcome"] == "complaint" for r in contacts)
        assert (metrics["satisfaction"]["n"], metrics["satisfaction"]["mean"]) == _mean(
            r["satisfaction"] for r in mine
        )
        assert (
            metrics["checklist_compliance"]["n"],
            metrics["checklist_compliance"]["mean"],
        ) == _mean(r["checklist"] for r in mine)
        assert metrics["conversion"]["rate"] is None or metrics["conversion"]["rate"] <= 1


@pytest.mark.parametrize(
    "query",
    [{"segment": "retail"}, {"team": "north"}, {"channel": "visit"}, {"from": "2025-04-10"}],
)
def test_the_dashboard_refuses_filters_its_sections_would_ignore(world, query):
    r = world[0].get(
        "/dashboard", headers=auth("manager"), query_string={"currency": "HKD", **query}
    )
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert set(r.json["errors"]) == set(query)
    assert (
        world[0]
        .get("/dashboard", headers=auth("manager"), query_string={"currency": "USD"})
        .status_code
        == 200
    )
