"""The activity report: calls planned, completed, missed and cancelled, and plan
adherence, by period and any dimension, from the activity and findings cubes.

Plan adherence (``shared.coverage``) = calls due in the period that were completed
by the end of their local due day ÷ calls due in it: a call done early counts on its
due day, once, so adherence stays within 0..1.

Unfiltered and grouped by day, week or month, it reads the day totals
(``activity_day``, ``outcome_day``): a row per day and outcome, however many
dimension combinations the cubes hold; otherwise the cubes.
"""

from __future__ import annotations

from sqlalchemy import func, select

from services.reporting.calls.tables import ActivityCube, ActivityDay, FindingsCube, OutcomeDay
from services.reporting.reports.filters import (
    FILTERS,
    default_period,
    group_key,
    ratio,
    where_dimensions,
    where_period,
)
from shared import coverage

ACTIVITY_DAYS = 30
COUNTS = ("planned", "completed", "missed", "cancelled", "on_time")
COLUMNS = {
    "segment": "segment",
    "channel": "channel",
    "team": "team",
    "agent_kind": "agent_kind",
    "partner": "partner_id",
}


def _rows(session, args, start, end, model, values, extra=()):
    group = getattr(model, COLUMNS.get(args["group_by"], "day"))
    keys = [model.day, group, *extra] if group is not model.day else [model.day, *extra]
    query = select(*keys, *values).group_by(*keys)
    query = where_dimensions(where_period(query, model.day, start, end), model, args)
    return session.execute(query).all()


def _bucket(args, row):
    by = args["group_by"]
    return row[1] if by in COLUMNS else group_key(by, row[0])


def _blank() -> dict:
    return {**dict.fromkeys(COUNTS, 0), "outcomes": {}}


def _sources(args):
    """The day totals when no dimension is asked for, else the cubes."""
    if args["group_by"] in COLUMNS or any(args.get(name) is not None for name in FILTERS):
        return ActivityCube, FindingsCube
    return ActivityDay, OutcomeDay


def activity_report(uow, zone, args: dict) -> dict:
    args = {"group_by": "day", **args}
    start, end = default_period(args, zone, ACTIVITY_DAYS)
    activity, findings = _sources(args)
    sums = [func.sum(getattr(activity, name)) for name in COUNTS]
    with uow.reader() as session:
        counts = _rows(session, args, start, end, activity, sums)
        outcomes = _rows(
            session,
            args,
            start,
            end,
            findings,
            [func.sum(findings.calls)],
            extra=[findings.outcome],
        )
    days, groups, totals = {}, {}, _blank()
    for row in counts:
        for bucket in (
            days.setdefault(row[0], _blank()),
            groups.setdefault(_bucket(args, row), _blank()),
            totals,
        ):
            for name, value in zip(COUNTS, row[-len(COUNTS) :]):
                bucket[name] += int(value or 0)
    for row in outcomes:
        outcome, calls = row[-2], int(row[-1])
        for bucket in (
            days.setdefault(row[0], _blank()),
            groups.setdefault(_bucket(args, row), _blank()),
            totals,
        ):
            bucket["outcomes"][outcome] = bucket["outcomes"].get(outcome, 0) + calls
    return {
        "start": start,
        "end": end,
        "timezone": zone.key,
        "group_by": args["group_by"],
        "days": [_day(day, days[day]) for day in sorted(days)],
        "groups": [
            {"key": key or "", **_with_rates(groups[key])} for key in sorted(groups, key=str)
        ],
        "totals": _with_rates(totals),
    }


def _day(day, counts) -> dict:
    return {
        "day": day,
        "planned": counts["planned"],
        "completed": counts["completed"],
        "missed": counts["missed"],
        "outcomes": counts["outcomes"],
    }


def _with_rates(counts: dict) -> dict:
    return {
        **counts,
        "adherence": coverage.adherence(counts["on_time"], counts["planned"]),
        "completion_rate": ratio(counts["completed"], counts["planned"]),
    }


def table(report: dict):
    columns = ["key", *COUNTS, "adherence", "completion_rate"]
    return columns, ([g[c] for c in columns] for g in report["groups"])


def chart(report: dict, plot):
    groups = report["groups"]
    keys = [str(g["key"]) or "(none)" for g in groups]
    return plot.bars(
        f"Call activity {report['start']} to {report['end']}",
        keys,
        {name: [g[name] for g in groups] for name in ("planned", "completed", "missed")},
        xlabel=report["group_by"],
        ylabel="calls (count)",
    )
