"""The agents report: per agent, per partner, or staff against partners (group_by
``agent``, ``partner``, ``agent_kind``), the calls due and done in the period with
plan adherence (``shared.coverage``), the outcome mix, mean satisfaction and
propensity with their n, conversion (completed calls → sale opportunities, and
those opportunities → deals and deals won), checklist compliance and quality
flags (calls flagged, and the mix of rules), from ``agent_cube``, ``agent_outcome``
and ``agent_flag``.

A call counts under the agent who holds it (planned, on its due day) or whose
event it is (completed, missed); agent ``""`` holds the calls no one was assigned.
Every filter of the activity report applies to every figure, and ``agent`` too:
the tables are keyed by every call dimension. The dashboard calls this same
function for its per-agent and per-partner tables.
"""

from __future__ import annotations

from sqlalchemy import func, select

from services.reporting.agents.tables import AgentCube, AgentFlag, AgentOutcome
from services.reporting.reports.filters import default_period, ratio, where_dimensions, where_period
from shared import coverage

AGENT_DAYS = 30
GROUPS = {"agent": "agent_id", "partner": "partner_id", "agent_kind": "agent_kind"}
COUNTS = ("planned", "completed", "missed", "cancelled", "on_time")
SUMS = (
    "sat_n",
    "sat_sum",
    "prop_n",
    "prop_sum",
    "chk_n",
    "chk_full",
    "opportunities",
    "flagged",
    "deals",
    "deals_won",
)


def _query(model, args, start, end, values, extra=()):
    group = getattr(model, GROUPS[args["group_by"]])
    query = select(group, *extra, *values).group_by(group, *extra)
    query = where_dimensions(where_period(query, model.day, start, end), model, args)
    if args.get("agent") is not None:
        query = query.where(model.agent_id == args["agent"])
    return query


def agents_report(uow, zone, args: dict) -> dict:
    args = {"group_by": "agent", **args}
    start, end = default_period(args, zone, AGENT_DAYS)
    sums = [func.sum(getattr(AgentCube, name)) for name in COUNTS + SUMS]
    with uow.reader() as session:
        counts = session.execute(_query(AgentCube, args, start, end, sums)).all()
        outcomes = session.execute(
            _query(
                AgentOutcome,
                args,
                start,
                end,
                [func.sum(AgentOutcome.calls)],
                extra=[AgentOutcome.outcome],
            )
        ).all()
        flags = session.execute(
            _query(AgentFlag, args, start, end, [func.sum(AgentFlag.calls)], extra=[AgentFlag.rule])
        ).all()
    groups, totals = {}, _blank()
    for key, *values in counts:
        for bucket in (groups.setdefault(key or "", _blank()), totals):
            for name, value in zip(COUNTS + SUMS, values):
                bucket[name] += int(value or 0)
    for mix, rows in (("outcomes", outcomes), ("rules", flags)):
        for key, name, calls in rows:
            for bucket in (groups.setdefault(key or "", _blank()), totals):
                bucket[mix][name] = bucket[mix].get(name, 0) + int(calls)
    return {
        "start": start,
        "end": end,
        "timezone": zone.key,
        "group_by": args["group_by"],
        # A count moved away by a reassignment leaves a row of zeros: no group.
        "groups": [
            {"key": key, **_figures(groups[key])}
            for key in sorted(groups)
            if any(groups[key][name] for name in COUNTS)
        ],
        "totals": _figures(totals),
    }


def _blank() -> dict:
    return {**dict.fromkeys(COUNTS + SUMS, 0), "outcomes": {}, "rules": {}}


def _mean(total: int, n: int) -> dict:
    return {"n": n, "mean": round(total / n, 4) if n else None}


def _figures(sums: dict) -> dict:
    return {
        **{name: sums[name] for name in COUNTS},
        "outcomes": sums["outcomes"],
        "adherence": coverage.adherence(sums["on_time"], sums["planned"]),
        "completion_rate": ratio(sums["completed"], sums["planned"]),
        "satisfaction": _mean(sums["sat_sum"], sums["sat_n"]),
        "propensity": _mean(sums["prop_sum"], sums["prop_n"]),
        "opportunities": sums["opportunities"],
        "conversion": ratio(sums["opportunities"], sums["completed"]),
        "deals": {
            "from_opportunities": sums["deals"],
            "won": sums["deals_won"],
            "conversion": ratio(sums["deals"], sums["opportunities"]),
            "won_rate": ratio(sums["deals_won"], sums["opportunities"]),
        },
        "checklist": {
            "n": sums["chk_n"],
            "complete": sums["chk_full"],
            "compliance": ratio(sums["chk_full"], sums["chk_n"]),
        },
        "quality_flags": {
            "flagged": sums["flagged"],
            "rate": ratio(sums["flagged"], sums["completed"]),
            "rules": dict(sorted(sums["rules"].items())),
        },
    }


COLUMNS = [
    "key",
    *COUNTS,
    "adherence",
    "completion_rate",
    "satisfaction_n",
    "satisfaction_mean",
    "propensity_n",
    "propensity_mean",
    "opportunities",
    "conversion",
    "deals",
    "deals_won",
    "deal_conversion",
    "checklist_n",
    "checklist_complete",
    "checklist_compliance",
    "flagged",
    "flagged_rate",
    "quality_flags",
    "outcomes",
]


def table(report: dict):
    def row(g):
        return [
            g["key"],
            *(g[c] for c in COUNTS),
            g["adherence"],
            g["completion_rate"],
            g["satisfaction"]["n"],
            g["satisfaction"]["mean"],
            g["propensity"]["n"],
            g["propensity"]["mean"],
            g["opportunities"],
            g["conversion"],
            g["deals"]["from_opportunities"],
            g["deals"]["won"],
            g["deals"]["conversion"],
            g["checklist"]["n"],
            g["checklist"]["complete"],
            g["checklist"]["compliance"],
            g["quality_flags"]["flagged"],
            g["quality_flags"]["rate"],
            g["quality_flags"]["rules"],
            g["outcomes"],
        ]

    return COLUMNS, (row(g) for g in report["groups"])


def chart(report: dict, plot):
    groups = report["groups"]
    keys = [g["key"] or "(unassigned)" for g in groups]
    return plot.bars(
        f"Calls by {report['group_by']} {report['start']} to {report['end']}",
        keys,
        {name: [g[name] for g in groups] for name in ("planned", "completed", "on_time")},
        xlabel=report["group_by"],
        ylabel="calls (count)",
    )
