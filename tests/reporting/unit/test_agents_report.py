"""The agents report (``/reports/agents``): per agent, per partner and staff against
partners, every figure equals the one computed here from the calls' records alone
(``tests/reporting/agents_world``), whatever the order and redelivery of the events,
under every filter, and again after a rebuild from the event log."""

import random
import re
import statistics
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.reporting import config, rebuild
from services.reporting.app import create_app
from services.reporting.handlers import subscriptions
from services.reporting.tables import Inbox, Outbox
from shared import clock, migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from tests.conftest import auth
from tests.reporting import agents_world as w


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('agents') / 'reporting.db'}"
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    db = Database(url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    events, calls = w.world()
    mixed = events + random.Random(8).sample(events, 60)  # some come twice
    random.Random(6).shuffle(mixed)  # an assignment may come before its call
    for e in mixed:
        dispatcher.dispatch(e)
    yield create_app({"DATABASE_URL": url, "DEV_MODE": "1"}).test_client(), calls, db
    db.dispose()


def get(client, **query):
    return client.get("/api/v1/reports/agents", headers=auth("manager"), query_string=query)


def report(client, **query):
    r = get(client, **w.PERIOD, **query)
    assert r.status_code == 200, r.json
    return r.json


def _mean(values):
    values = [v for v in values if v is not None]
    return {"n": len(values), "mean": round(statistics.fmean(values), 4) if values else None}


def expected(calls: list) -> dict:
    """The report's figures of these calls, from their records."""
    due = [r for r in calls if w.in_period(r["due_day"])]
    planned = [r for r in due if not r["cancelled"]]
    done = [r for r in calls if w.in_period(r["day"])]
    on_time = [r for r in planned if r["day"] is not None and r["day"] <= r["due_day"]]
    checked = [r for r in done if r["checklist"] is not None]
    full = [r for r in checked if r["checklist"] == 1.0]
    opportunities = sum(r["outcome"] == "sale_opportunity" for r in done)
    deals = [r for r in done if r["deal"] is not None]
    won = sum(r["deal"] == "won" for r in deals)
    flagged = sum(bool(r["flags"]) for r in done)
    return {
        "planned": len(planned),
        "completed": len(done),
        "missed": sum(r["missed"] for r in due),
        "cancelled": len(due) - len(planned),
        "on_time": len(on_time),
        "outcomes": dict(Counter(r["outcome"] for r in done)),
        "adherence": round(len(on_time) / len(planned), 4) if planned else None,
        "completion_rate": round(len(done) / len(planned), 4) if planned else None,
        "satisfaction": _mean(r["satisfaction"] for r in done),
        "propensity": _mean(r["propensity"] for r in done),
        "opportunities": opportunities,
        "conversion": round(opportunities / len(done), 4) if done else None,
        "deals": {
            "from_opportunities": len(deals),
            "won": won,
            "conversion": _share(len(deals), opportunities),
            "won_rate": _share(won, opportunities),
        },
        "checklist": {
            "n": len(checked),
            "complete": len(full),
            "compliance": round(len(full) / len(checked), 4) if checked else None,
        },
        "quality_flags": {
            "flagged": flagged,
            "rate": _share(flagged, len(done)),
            "rules": dict(sorted(Counter(rule for r in done for rule in r["flags"]).items())),
        },
    }


def _share(part: int, whole: int):
    return round(part / whole, 4) if whole else None


def by(calls: list, field: str) -> dict:
    return {
        key: expected([r for r in calls if r[field] == key])
        for key in sorted({r[field] for r in calls})
    }


def test_each_agent_s_figures_equal_those_of_the_calls_they_held(world):
    client, calls, _ = world
    body = report(client)
    groups = {g.pop("key"): g for g in body["groups"]}
    assert groups == by(calls, "agent")
    assert set(groups) == {"", "ann", "bob", "pat"}  # "": calls no one was assigned
    assert body["totals"] == expected(calls)
    for agent in ("ann", "bob", "pat"):  # every figure has data behind it
        figures = groups[agent]
        assert figures["completed"] and figures["planned"] and figures["missed"]
        assert figures["satisfaction"]["n"] and figures["checklist"]["complete"]
        assert 0 < figures["adherence"] <= 1
        assert figures["quality_flags"]["flagged"] and len(figures["quality_flags"]["rules"]) > 1
        assert (
            0
            < figures["deals"]["won"]
            < figures["deals"]["from_opportunities"]
            <= figures["opportunities"]
        )
    deals = body["totals"]["deals"]  # some opportunities opened no deal
    assert 0 < deals["won_rate"] < deals["conversion"] < 1


def test_a_reassigned_call_counts_for_its_last_holder_only(world):
    client, calls, _ = world
    planned = {g["key"]: g["planned"] for g in report(client)["groups"]}
    handed = [
        r for r in calls if r["agent"] == "bob" and w.in_period(r["due_day"]) and not r["cancelled"]
    ]
    assert planned["bob"] == len(handed)
    assert sum(planned.values()) == sum(
        w.in_period(r["due_day"]) and not r["cancelled"] for r in calls
    )


@pytest.mark.parametrize("group_by, field", [("partner", "partner"), ("agent_kind", "agent_kind")])
def test_per_partner_and_staff_against_partners(world, group_by, field):
    client, calls, _ = world
    groups = {g.pop("key"): g for g in report(client, group_by=group_by)["groups"]}
    assert groups == by(calls, field)


@pytest.mark.parametrize(
    "query, field, value",
    [
        ({"segment": "sme"}, "segment", "sme"),
        ({"channel": "visit"}, "channel", "visit"),
        ({"team": "north"}, "team", "north"),
        ({"agent_kind": "partner"}, "agent_kind", "partner"),
        ({"partner": "p1"}, "partner", "p1"),
        ({"agent": "ann"}, "agent", "ann"),
    ],
)
def test_every_filter_applies_to_every_figure(world, query, field, value):
    client, calls, _ = world
    body = report(client, **query)
    mine = [r for r in calls if r[field] == value]
    assert body["totals"] == expected(mine)
    assert {g.pop("key"): g for g in body["groups"]} == by(mine, "agent")


def test_a_rebuild_from_the_event_log_answers_the_same(world):
    client, _, db = world
    answers = [report(client, group_by=g) for g in ("agent", "partner", "agent_kind")]
    assert rebuild.rebuild(db, ZoneInfo("Asia/Hong_Kong"), check=True)[1] == []
    rebuild.rebuild(db, ZoneInfo("Asia/Hong_Kong"))
    assert [report(client, group_by=g) for g in ("agent", "partner", "agent_kind")] == answers


def test_csv_and_png_answer_the_same_groups(world):
    client, calls, _ = world
    csv = get(client, **w.PERIOD, format="csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.get_data(as_text=True).splitlines()
    assert lines[0].startswith("key,planned,completed,missed,cancelled,on_time,adherence")
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    assert set(rows) == {"", "ann", "bob", "pat"}
    assert int(rows["pat"][1]) == by(calls, "agent")["pat"]["planned"]
    png = get(client, **w.PERIOD, format="png")
    assert png.status_code == 200 and png.data[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "query, field",
    [
        ({"group_by": "day"}, "group_by"),
        ({"agent": ""}, "agent"),
        ({"agent_kind": "robot"}, "agent_kind"),
        ({"from": "2025-05-01", "to": "2025-04-01"}, "from"),
        ({"agnet": "ann"}, "agnet"),
    ],
)
def test_a_bad_query_is_refused_naming_the_field(world, query, field):
    r = get(world[0], **query)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in r.json["errors"]


def test_only_analysts_and_managers_read_it(world):
    r = world[0].get("/api/v1/reports/agents", headers=auth("agent"), query_string=w.PERIOD)
    assert r.status_code == 403


@pytest.fixture
def on_the_period_s_last_day(tmp_path):
    """The clock moved to noon of the period's last day in Hong Kong."""
    path = tmp_path / "offset"
    clock.use_offset_file(path)
    target = datetime.combine(w.END, time(12), tzinfo=w.HK)
    clock.set_offset(path, target - datetime.now(UTC))
    yield w.END
    clock.use_offset_file(None)


def test_the_dashboard_tables_show_the_report_s_figures(world, on_the_period_s_last_day):
    client, _, _ = world
    page = client.get("/dashboard", headers=auth("manager")).get_data(as_text=True)
    start = on_the_period_s_last_day - timedelta(days=89)
    for by, blank in (("agent", "Not assigned"), ("partner", "Own staff")):
        table = page.split(f'<table id="agents-by-{by}">')[1].split("</table>")[0]
        assert "<caption>" in table and '<th scope="col">' in table
        shown = {
            name: [int(n) for n in cells]
            for name, *cells in re.findall(
                r'<tr><th scope="row">([^<]*)</th><td class="num">(\d+)</td>\s*'
                r'<td class="num">(\d+)</td>',
                table,
            )
        }
        body = get(client, **{"from": str(start), "to": str(w.END)}, group_by=by).json
        assert shown == {
            g["key"] or next(k for k in shown if k.startswith(blank)): [
                g["planned"],
                g["completed"],
            ]
            for g in body["groups"]
        }
        assert len(shown) == (4 if by == "agent" else 2)
        rows = {row.split("</th>")[0]: row for row in table.split('<th scope="row">')[1:]}
        for g in body["groups"]:  # the quality flags and deal columns too
            row = next(
                v
                for k, v in rows.items()
                if k == g["key"] or (not g["key"] and k.startswith(blank))
            )
            flags = g["quality_flags"]
            assert f"{flags['flagged']} calls" in row
            assert all(f"{rule.replace('_', ' ')} {n}" in row for rule, n in flags["rules"].items())
            if g["deals"]["conversion"] is not None:
                assert f"{g['deals']['conversion'] * 100:.1f}% (" in row


def test_activity_counts_a_cancelled_call_under_its_last_assignment(world):
    """Whether the cancellation or the assignment arrived first (events shuffled)."""
    client, calls, _ = world
    body = client.get(
        "/api/v1/reports/activity",
        headers=auth("analyst"),
        query_string={**w.PERIOD, "group_by": "team"},
    ).json
    cancelled = Counter(c["team"] for c in calls if c["cancelled"] and w.in_period(c["due_day"]))
    assert {g["key"]: g["cancelled"] for g in body["groups"]} == cancelled
    refused = client.get(
        "/api/v1/reports/activity", headers=auth("analyst"), query_string={"group_by": "agent"}
    )
    assert refused.status_code == 422 and "group_by" in refused.json["errors"]
