"""The findings report: outcome mix, satisfaction (1–5) and propensity (0–100)
distributions and their trend, checklist compliance and competitor mentions, from
the findings, score and competitor cubes (whole months from the findings and score
cubes' monthly roll-ups). Every filter applies to every figure: the three cubes have
the same dimensions."""

from __future__ import annotations

from sqlalchemy import func, select

from services.reporting.calls.activity import COLUMNS
from services.reporting.calls.tables import (
    CompetitorCube,
    FindingsCube,
    FindingsMonth,
    ScoreCube,
    ScoreMonth,
)
from services.reporting.reports import periods
from services.reporting.reports.filters import (
    default_period,
    group_key,
    ratio,
    where_dimensions,
    where_period,
)
from services.reporting.reports.stats import mean_of

FINDINGS_DAYS = 90
SUMS = ("calls", "sat_n", "sat_sum", "sat_sq", "prop_n", "prop_sum", "prop_sq")


def _query(args, start, end, model, *columns):
    query = select(*columns)
    return where_dimensions(where_period(query, model.day, start, end), model, args)


def _parts(by: str, start, end):
    """Day and week trends need the day cubes; anything else reads whole months
    from the monthly roll-ups and only the period's edges from the day cubes."""
    if by in ("day", "week"):
        return [((FindingsCube, ScoreCube), start, end)]
    return [
        ((findings, scores), low, high)
        for (findings, low, high), (scores, _, _) in zip(
            periods.cube_parts(FindingsCube, FindingsMonth, start, end),
            periods.cube_parts(ScoreCube, ScoreMonth, start, end),
        )
    ]


def _read(session, args, by, start, end):
    rows, scores = [], []
    for (cube, score), low, high in _parts(by, start, end):
        group = getattr(cube, COLUMNS.get(by, "day"))
        sums = [func.sum(getattr(cube, name)) for name in SUMS]
        rows += session.execute(
            _query(args, low, high, cube, group, cube.outcome, *sums).group_by(group, cube.outcome)
        ).all()
        scores += session.execute(
            _query(
                args, low, high, score, score.measure, score.bucket, func.sum(score.count)
            ).group_by(score.measure, score.bucket)
        ).all()
    return rows, scores


def findings_report(uow, zone, args: dict) -> dict:
    start, end = default_period(args, zone, FINDINGS_DAYS)
    by = args.get("group_by", "month")
    with uow.reader() as session:
        rows, scores = _read(session, args, by, start, end)
        competitors = session.execute(_competitors(args, start, end)).all()
    outcomes, trend, total = {}, {}, dict.fromkeys(SUMS, 0)
    for key, outcome, *values in rows:
        key = key if by in COLUMNS else group_key(by, key)
        outcomes[outcome] = outcomes.get(outcome, 0) + int(values[0])
        bucket = trend.setdefault(key or "", dict.fromkeys(SUMS, 0))
        for name, value in zip(SUMS, values):
            bucket[name] += int(value or 0)
            total[name] += int(value or 0)
    calls = total["calls"]
    return {
        "start": start,
        "end": end,
        "timezone": zone.key,
        "group_by": by,
        "calls": calls,
        "outcomes": [
            {"outcome": o, "calls": n, "share": ratio(n, calls)}
            for o, n in sorted(outcomes.items(), key=lambda kv: -kv[1])
        ],
        "satisfaction": {
            **_measure(total, "sat"),
            "distribution": _dist(scores, "satisfaction", range(1, 6)),
        },
        "propensity": {
            **_measure(total, "prop"),
            "distribution": _dist(scores, "propensity", range(10)),
        },
        "trend": [
            {
                "key": key,
                "calls": v["calls"],
                "satisfaction": _measure(v, "sat"),
                "propensity": _measure(v, "prop"),
            }
            for key, v in sorted(trend.items(), key=lambda kv: str(kv[0]))
        ],
        "competitors": [{"competitor": c, "mentions": int(n)} for c, n in competitors],
    }


def _measure(sums: dict, prefix: str) -> dict:
    return mean_of(sums[f"{prefix}_n"], sums[f"{prefix}_sum"], sums[f"{prefix}_sq"])


def _dist(scores, measure: str, buckets) -> dict:
    counts: dict = {}
    for m, bucket, n in scores:
        if m == measure:
            counts[bucket] = counts.get(bucket, 0) + int(n)
    label = (
        (lambda b: str(b))
        if measure == "satisfaction"
        else (lambda b: f"{b * 10}-{b * 10 + 9 if b < 9 else 100}")
    )
    return {label(b): counts.get(b, 0) for b in buckets}


def _competitors(args, start, end):
    """The top 20, under the same period and filters as every other figure."""
    mentions = func.sum(CompetitorCube.mentions)
    query = _query(args, start, end, CompetitorCube, CompetitorCube.competitor, mentions)
    return (
        query.group_by(CompetitorCube.competitor)
        .order_by(mentions.desc(), CompetitorCube.competitor)
        .limit(20)
    )


def table(report: dict):
    columns = [
        "key",
        "calls",
        "satisfaction_n",
        "satisfaction_mean",
        "propensity_n",
        "propensity_mean",
    ]
    return columns, (
        [
            t["key"],
            t["calls"],
            t["satisfaction"]["n"],
            t["satisfaction"]["mean"],
            t["propensity"]["n"],
            t["propensity"]["mean"],
        ]
        for t in report["trend"]
    )


def chart(report: dict, plot):
    dist = report["satisfaction"]["distribution"]
    return plot.bars(
        f"Satisfaction of completed calls {report['start']} to {report['end']}",
        list(dist),
        {"calls": list(dist.values())},
        xlabel="satisfaction score (1 = poor, 5 = excellent)",
        ylabel="calls (count)",
    )
