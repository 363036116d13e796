"""The sales report: revenue over the period, the open pipeline by stage, the
call → opportunity → deal → won funnel, and sales-cycle statistics.

Pipeline and stage statistics are as of now (all deals ever seen); revenue and the
funnel follow the period. Deal events carry no segment, so a segment filter is
refused (``schemas.SalesArgs``) rather than applied to revenue and calls alone, which
put deals of every segment over one segment's opportunities.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from services.reporting import periods, pnl
from services.reporting.filters import check_period, ratio, where_period
from services.reporting.models_facts import (ActivityCube, DealFunnel, FindingsCube,
                                             PipelineStage, StageMove)
from services.reporting.models_rollups import FindingsMonth
from shared.errors import Invalid
from shared.events.contracts import DEAL_STAGES
from shared.types import to_cents

DAY = 86400


def _calls(session, args):
    """Completed calls, and those with a sale opportunity (whole months of the
    period from the findings roll-up)."""
    def count(model, column, start, end, *where):
        query = where_period(select(func.sum(column)), model.day, start, end).where(*where)
        return int(session.scalar(query) or 0)
    completed = count(ActivityCube, ActivityCube.completed, args.get("start"), args.get("end"))
    opportunities = sum(count(cube, cube.calls, start, end, cube.outcome == "sale_opportunity")
                        for cube, start, end in periods.cube_parts(
                            FindingsCube, FindingsMonth, args.get("start"), args.get("end")))
    return completed, opportunities


def sales_report(uow, args: dict) -> dict:
    check_period(args.get("start"), args.get("end"))
    if args.get("segment") is not None:
        raise Invalid("the sales report cannot apply a segment filter",
                      errors={"segment": ["Deal events carry no segment."]})
    revenue = pnl.pnl_report(uow, {**args, "group_by": "month"}, reconcile=False)
    with uow.reader() as session:
        completed, opportunities = _calls(session, args)
        funnel = session.execute(where_period(select(*(func.sum(getattr(DealFunnel, n)) for n in (
            "created", "from_calls", "won", "won_from_calls", "lost", "cycles", "cycle_seconds"))),
            DealFunnel.day, args.get("start"), args.get("end"))).one()
        pipeline = session.execute(select(PipelineStage.stage, PipelineStage.deals,
                                          PipelineStage.value)
                                   .where(PipelineStage.currency == args["currency"])).all()
        moves = session.execute(select(StageMove.from_stage, StageMove.to_stage, StageMove.moves,
                                       StageMove.timed, StageMove.seconds)).all()
    created, from_calls, won, won_calls, lost, cycles, seconds = (int(v or 0) for v in funnel)
    return {"currency": args["currency"], "start": args.get("start"), "end": args.get("end"),
            "revenue": {"by_month": revenue["segments"], "totals": revenue["totals"]},
            "pipeline": _pipeline(pipeline),
            "funnel": {"calls_completed": completed, "opportunities": opportunities,
                       "deals_from_calls": from_calls, "won_from_calls": won_calls,
                       "call_to_opportunity": ratio(opportunities, completed),
                       "opportunity_to_deal": ratio(from_calls, opportunities),
                       "deal_to_won": ratio(won_calls, from_calls),
                       "deals_created": created, "won": won, "lost": lost,
                       "win_rate": ratio(won, won + lost)},
            "cycle": {"n": cycles,
                      "mean_days": round(seconds / cycles / DAY, 2) if cycles else None},
            "stages": _stages(moves)}


def _pipeline(rows) -> list:
    by_stage = {stage: (deals, value) for stage, deals, value in rows}
    empty = (0, Decimal(0))
    return [{"stage": s, "deals": int(by_stage.get(s, empty)[0]),
             "value": to_cents(by_stage.get(s, empty)[1])} for s in DEAL_STAGES]


def _stages(moves) -> list:
    """Per stage: deals that left it, the share that moved forward, mean days in it."""
    out = []
    for stage in DEAL_STAGES[:-2]:
        left = [m for m in moves if m[0] == stage]
        total, timed = sum(m[2] for m in left), sum(m[3] for m in left)
        forward = sum(m[2] for m in left if m[1] != "lost"
                      and DEAL_STAGES.index(m[1]) > DEAL_STAGES.index(stage))
        out.append({"stage": stage, "left": total, "moved_forward": forward,
                    "conversion": ratio(forward, total), "timed": timed,
                    "mean_days_in_stage": round(sum(m[4] for m in left) / timed / DAY, 2)
                    if timed else None})
    return out


def table(report: dict):
    columns = ["stage", "deals", "value"]
    return columns, ([p["stage"], p["deals"], p["value"]] for p in report["pipeline"])


def chart(report: dict, plot):
    rows = report["pipeline"]
    return plot.bars(f"Open pipeline by stage ({report['currency']})",
                     [r["stage"] for r in rows],
                     {"expected value": [float(r["value"]) for r in rows]},
                     xlabel="deal stage", ylabel=f"expected value ({report['currency']})")
