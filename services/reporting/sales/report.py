"""The sales report: revenue over the period, the pipeline by stage as of the
period's end, the call → opportunity → deal → won funnel, sales-cycle and stage
statistics of the period.

Every figure follows every filter: the period, the currency and the segment. Calls
carry no currency: the funnel's calls are those of the period and segment, and its
deals those of the currency too (see docs/reporting.md).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from services.reporting.calls.tables import ActivityCube, FindingsCube, FindingsMonth
from services.reporting.pnl import report as pnl
from services.reporting.reports import periods
from services.reporting.reports.filters import check_period, ratio, where_period
from services.reporting.sales.tables import DealFunnel, PipelineChange, StageMove
from shared.events.contracts import DEAL_STAGES
from shared.types import to_cents

DAY = 86400
FUNNEL = (
    "created",
    "from_calls",
    "from_opportunities",
    "won",
    "won_from_calls",
    "lost",
    "lost_from_calls",
    "cycles",
    "cycle_seconds",
)


def _segment(query, model, segment):
    return query if segment is None else query.where(model.segment == segment)


def _calls(session, args):
    """Completed calls, and those with a sale opportunity (whole months of the
    period from the findings roll-up), of the segment if one is given."""

    def count(model, column, start, end, *where):
        query = where_period(select(func.sum(column)), model.day, start, end).where(*where)
        return int(session.scalar(_segment(query, model, args.get("segment"))) or 0)

    completed = count(ActivityCube, ActivityCube.completed, args.get("start"), args.get("end"))
    opportunities = sum(
        count(cube, cube.calls, start, end, cube.outcome == "sale_opportunity")
        for cube, start, end in periods.cube_parts(
            FindingsCube, FindingsMonth, args.get("start"), args.get("end")
        )
    )
    return completed, opportunities


def _deals(model, args, *columns, start=None):
    """A query of the deal table ``model`` for the currency and segment, from
    ``start`` to the period's end."""
    query = select(*columns).where(model.currency == args["currency"])
    return where_period(
        _segment(query, model, args.get("segment")), model.day, start, args.get("end")
    )


def sales_report(uow, args: dict) -> dict:
    check_period(args.get("start"), args.get("end"))
    revenue = pnl.pnl_report(uow, {**args, "group_by": "month"}, reconcile=False)
    start = args.get("start")
    with uow.reader() as session:
        completed, opportunities = _calls(session, args)
        funnel = session.execute(
            _deals(
                DealFunnel, args, *(func.sum(getattr(DealFunnel, n)) for n in FUNNEL), start=start
            )
        ).one()
        # The pipeline as of the period's end: every stage entry and exit up to it.
        pipeline = session.execute(
            _deals(
                PipelineChange,
                args,
                PipelineChange.stage,
                func.sum(PipelineChange.deals),
                func.sum(PipelineChange.value),
            ).group_by(PipelineChange.stage)
        ).all()
        moves = session.execute(
            _deals(
                StageMove,
                args,
                StageMove.from_stage,
                StageMove.to_stage,
                *(func.sum(getattr(StageMove, n)) for n in ("moves", "timed", "seconds")),
                start=start,
            ).group_by(StageMove.from_stage, StageMove.to_stage)
        ).all()
    created, from_calls, from_opportunities, won, won_calls, lost, lost_calls, cycles, seconds = (
        int(v or 0) for v in funnel
    )
    return {
        "currency": args["currency"],
        "segment": args.get("segment"),
        "start": start,
        "end": args.get("end"),
        "revenue": {"by_month": revenue["segments"], "totals": revenue["totals"]},
        "pipeline": _pipeline(pipeline),
        "funnel": {
            "calls_completed": completed,
            "opportunities": opportunities,
            "deals_from_calls": from_calls,
            "won_from_calls": won_calls,
            "lost_from_calls": lost_calls,
            "call_to_opportunity": ratio(opportunities, completed),
            "deals_from_opportunities": from_opportunities,
            # of the period's opportunities, those that became a deal
            "opportunity_to_deal": ratio(from_opportunities, opportunities),
            # of the deals from calls closed in the period, those won
            "deal_to_won": ratio(won_calls, won_calls + lost_calls),
            "deals_created": created,
            "won": won,
            "lost": lost,
            "win_rate": ratio(won, won + lost),
        },
        "cycle": {"n": cycles, "mean_days": round(seconds / cycles / DAY, 2) if cycles else None},
        "stages": _stages(moves),
    }


def _pipeline(rows) -> list:
    by_stage = {stage: (deals, value) for stage, deals, value in rows}
    empty = (0, Decimal(0))
    return [
        {
            "stage": s,
            "deals": int(by_stage.get(s, empty)[0]),
            "value": to_cents(by_stage.get(s, empty)[1]),
        }
        for s in DEAL_STAGES
    ]


def _stages(moves) -> list:
    """Per stage: deals that left it, the share that moved forward, mean days in it."""
    out = []
    for stage in DEAL_STAGES[:-2]:
        left = [m for m in moves if m[0] == stage]
        total, timed = sum(int(m[2]) for m in left), sum(int(m[3]) for m in left)
        forward = sum(
            int(m[2])
            for m in left
            if m[1] != "lost" and DEAL_STAGES.index(m[1]) > DEAL_STAGES.index(stage)
        )
        out.append(
            {
                "stage": stage,
                "left": total,
                "moved_forward": forward,
                "conversion": ratio(forward, total),
                "timed": timed,
                "mean_days_in_stage": round(sum(int(m[4]) for m in left) / timed / DAY, 2)
                if timed
                else None,
            }
        )
    return out


def table(report: dict):
    columns = ["stage", "deals", "value"]
    return columns, ([p["stage"], p["deals"], p["value"]] for p in report["pipeline"])


def chart(report: dict, plot):
    rows = report["pipeline"]
    return plot.bars(
        f"Open pipeline by stage ({report['currency']})",
        [r["stage"] for r in rows],
        {"expected value": [float(r["value"]) for r in rows]},
        xlabel="deal stage",
        ylabel=f"expected value ({report['currency']})",
    )
