"""The outsourcer-parity report: own staff against each partner, like for like
(same period and filters), from the findings cube.

- contact rate = contacts ÷ completed call attempts (a contact is any outcome but
  no answer, busy or wrong number);
- conversion = (interested + sale opportunity) ÷ contacts;
- complaint rate = complaints ÷ contacts;
- mean satisfaction (1–5) and mean checklist compliance (0–1) of calls scoring them.
Each partner's difference from staff has a 95% interval (Newcombe for rates, Welch
for means). A partner is flagged below parity when an interval lies wholly on the
worse side of 0: lower contact, conversion, satisfaction or compliance, or more
complaints.
"""

from __future__ import annotations

from sqlalchemy import func, select

from services.reporting.calls.tables import FindingsCube, FindingsMonth
from services.reporting.reports import periods
from services.reporting.reports.filters import check_period, where_dimensions, where_period
from services.reporting.reports.stats import mean_of, newcombe, proportion, welch
from shared.coverage import NOT_SPOKEN as NOT_CONTACTED

CONVERTED = ("interested", "sale_opportunity")
SUMS = ("calls", "sat_n", "sat_sum", "sat_sq", "chk_n", "chk_sum", "chk_sq")
RATES = {
    "contact_rate": ("contacts", "calls", 1),
    "conversion": ("converted", "contacts", 1),
    "complaint_rate": ("complaints", "contacts", -1),
}
MEANS = {"satisfaction": ("sat", 1.0), "checklist_compliance": ("chk", 1000.0)}


def _rows(session, args):
    """Whole months from the monthly roll-up, the period's edges from the day cube."""
    rows = []
    for cube, start, end in periods.cube_parts(
        FindingsCube, FindingsMonth, args.get("start"), args.get("end")
    ):
        query = select(
            cube.agent_kind,
            cube.partner_id,
            cube.outcome,
            *(func.sum(getattr(cube, n)) for n in SUMS),
        )
        query = where_dimensions(where_period(query, cube.day, start, end), cube, args)
        rows += session.execute(
            query.group_by(cube.agent_kind, cube.partner_id, cube.outcome)
        ).all()
    return rows


def _groups(session, args):
    rows = _rows(session, args)
    groups: dict = {}
    for kind, partner, outcome, *values in rows:
        name = "staff" if kind != "partner" else f"partner:{partner or '?'}"
        g = groups.setdefault(
            name, dict.fromkeys(SUMS + ("contacts", "converted", "complaints"), 0)
        )
        for key, value in zip(SUMS, values):
            g[key] += int(value or 0)
        calls = int(values[0])
        g["contacts"] += 0 if outcome in NOT_CONTACTED else calls
        g["converted"] += calls if outcome in CONVERTED else 0
        g["complaints"] += calls if outcome == "complaint" else 0
    return groups


def _scaled(g, prefix, scale):
    return (g[f"{prefix}_n"], g[f"{prefix}_sum"] / scale, g[f"{prefix}_sq"] / scale**2)


def _metrics(g) -> dict:
    out = {name: proportion(g[k], g[n]) for name, (k, n, _) in RATES.items()}
    out.update({name: mean_of(*_scaled(g, p, s)) for name, (p, s) in MEANS.items()})
    return out


def _compare(g, staff) -> tuple[dict, list]:
    differences, below = {}, []
    for name, (k, n, better) in RATES.items():
        differences[name] = newcombe(g[k], g[n], staff[k], staff[n])
        if _side(differences[name]) == -better:
            below.append(name)
    for name, (prefix, scale) in MEANS.items():
        differences[name] = welch(_scaled(g, prefix, scale), _scaled(staff, prefix, scale))
        if _side(differences[name]) == -1:
            below.append(name)
    return differences, below


def _side(result) -> int:
    low, high = result.get("ci95", (None, None))
    if low is None:
        return 0
    return 1 if low > 0 else -1 if high < 0 else 0


def parity_report(uow, args: dict) -> dict:
    check_period(args.get("start"), args.get("end"))
    with uow.reader() as session:
        groups = _groups(session, args)
    staff = groups.get("staff", dict.fromkeys(SUMS + ("contacts", "converted", "complaints"), 0))
    partners = []
    for name in sorted(n for n in groups if n != "staff"):
        differences, below = _compare(groups[name], staff)
        partners.append(
            {
                "partner": name.split(":", 1)[1],
                "metrics": _metrics(groups[name]),
                "difference_from_staff": differences,
                "below_parity": below,
                "flagged": bool(below),
            }
        )
    return {
        "start": args.get("start"),
        "end": args.get("end"),
        "staff": _metrics(staff),
        "partners": partners,
        "flagged": [p["partner"] for p in partners if p["flagged"]],
    }


def table(report: dict):
    columns = [
        "group",
        "metric",
        "n",
        "value",
        "difference",
        "ci95_low",
        "ci95_high",
        "p_value",
        "flagged",
    ]

    def rows():
        for metric, m in report["staff"].items():
            yield [
                "staff",
                metric,
                m["n"],
                m.get("rate", m.get("mean")),
                None,
                None,
                None,
                None,
                False,
            ]
        for p in report["partners"]:
            for metric, m in p["metrics"].items():
                d = p["difference_from_staff"][metric]
                ci = d.get("ci95") or [None, None]
                yield [
                    p["partner"],
                    metric,
                    m["n"],
                    m.get("rate", m.get("mean")),
                    d.get("difference"),
                    ci[0],
                    ci[1],
                    d.get("p_value"),
                    metric in p["below_parity"],
                ]

    return columns, rows()


def chart(report: dict, plot):
    rows = [
        (p["partner"], p["difference_from_staff"]["satisfaction"])
        for p in report["partners"]
        if "ci95" in p["difference_from_staff"]["satisfaction"]
    ]
    return plot.intervals(
        "Partner minus staff: mean satisfaction, 95% Welch interval",
        [name for name, _ in rows],
        [d["difference"] for _, d in rows],
        [d["ci95"][0] for _, d in rows],
        [d["ci95"][1] for _, d in rows],
        xlabel="difference in mean satisfaction (points, 1–5 scale)",
    )
