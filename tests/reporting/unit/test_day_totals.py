"""The activity report unfiltered and grouped by time reads the day totals
(``activity_day``, ``outcome_day``); grouped by a dimension it reads the cubes. Both
must give the same days and totals for the same events, delivered in any order."""

import random
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from services.reporting import catalogue
from services.reporting.calls import activity
from services.reporting.calls.tables import ActivityCube, ActivityDay
from shared.events import make_event
from tests.reporting import generate
from tests.reporting.events import at

HK = ZoneInfo("Asia/Hong_Kong")


def _assigned(call_id, customer_id, when, team):
    return make_event(
        "call.assigned",
        {
            "call_id": call_id,
            "customer_id": customer_id,
            "assigned_at": at(when),
            "agent_id": "a1",
            "agent_kind": "staff",
            "team": team,
        },
        producer="calls",
        occurred_at=at(when),
    )


@pytest.fixture
def reports(dispatcher):
    events = generate.effectiveness_stream(per_segment=10)[0] + generate.parity_stream()[0]
    events += [
        _assigned(f"retail-{n}-m{m}", f"retail-{n}", f"2025-0{m}-02T00:00", f"t{n % 3}")
        for n in range(10)
        for m in range(1, 7)
    ]
    mixed = events + random.Random(2).sample(events, 30)
    random.Random(5).shuffle(mixed)
    for event in mixed:
        dispatcher.dispatch(event)
    return lambda **args: catalogue.report(
        "activity",
        dispatcher.uow,
        HK,
        {"start": date(2025, 1, 1), "end": date(2025, 8, 31), **args},
    )


@pytest.mark.parametrize("by", ["day", "week", "month"])
def test_day_totals_equal_the_cube_summed(reports, by):
    from_totals, from_cube = reports(group_by=by), reports(group_by="team")
    assert from_totals["days"] == from_cube["days"] and len(from_cube["days"]) > 30
    assert from_totals["totals"] == from_cube["totals"]
    assert from_totals["totals"]["planned"] > 0 and from_totals["totals"]["completed"] > 0
    assert sum(g["completed"] for g in from_totals["groups"]) == from_totals["totals"]["completed"]


def test_a_dimension_filter_or_grouping_reads_the_cube():
    assert activity._sources({"group_by": "month"})[0] is ActivityDay
    assert activity._sources({"group_by": "month", "segment": "sme"})[0] is ActivityCube
    assert activity._sources({"group_by": "partner"})[0] is ActivityCube
