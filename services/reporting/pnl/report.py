"""The P&L report, by the sales service's definitions, from the P&L roll-ups:
segments, days, months and totals from ``pnl_cube``; customers from ``pnl_ytd``
(whole months, from a row per customer for each of a few boundary months and the
entries not spread yet, see ``store.year_to_date``) and ``pnl_daily`` (the days at
the period's edges).

- revenue: sales net of line discounts, less cancelled sales (the sales service
  reports list-price revenue and discounts apart: its revenue − discounts = ours);
- returns: refunded; cost (of goods): sold, less returned or cancelled goods;
- margin (gross) = revenue − returns − cost;
- cost_to_serve: cost of completed calls; allocations: customers' shares;
- net_contribution = margin − cost_to_serve − allocations.
Figures are exact sums rounded once, half-up, to cents. ``reconciliation`` sums the
per-customer roll-ups and compares them with the cube's totals: two separately
maintained paths (the cube's includes every segment move) that must agree exactly;
and compares reporting's figures per day and in total with the totals the sales
ledger published (``pnl.reconciliation``). By customer, a merged customer's rows count
under its survivor, as in the ledger.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import case, func, literal, or_, select, type_coerce, union_all

from services.reporting.pnl import reconciliation
from services.reporting.pnl.tables import CustomerSegment, PnlCube, PnlDaily, PnlYtd, PnlYtdPending
from services.reporting.reports import periods
from services.reporting.reports.filters import check_period, where_period
from services.reporting.store import year_to_date
from shared.types import Money, to_cents

AMOUNTS = ("revenue", "discounts", "returns", "cost_of_goods", "cost_to_serve", "allocations")
ZERO = Decimal(0)


def _sums(session, args, *keys):
    """The period's sums from the segment cube, grouped by ``keys``."""
    query = select(
        *keys, *(func.sum(getattr(PnlCube, n)) for n in AMOUNTS), func.sum(PnlCube.sales)
    ).where(PnlCube.currency == args["currency"])
    if args.get("segment") is not None:
        query = query.where(PnlCube.segment == args["segment"])
    query = where_period(query, PnlCube.day, args.get("start"), args.get("end"))
    return session.execute(query.group_by(*keys) if keys else query).all()


def _per_customer(session, args) -> list:
    """Each customer's entries of the period, a query (a row per customer) for each
    part: whole months from the year-to-date rows of their boundary months
    (``pnl_ytd``), the days at the period's edges from ``pnl_daily``."""
    parts = periods.split(args.get("start"), args.get("end"))
    selects = [
        _customer_part(PnlDaily, args).where(PnlDaily.day.between(low, high))
        for low, high in parts.edges
    ]
    months = None if parts.months_empty() else _whole_months(session, args, parts)
    if months is not None:
        signs = year_to_date.terms(*months)
        sign = case(signs, value=PnlYtd.month, else_=0)
        selects.append(
            _customer_part(PnlYtd, args, lambda column: sign * column).where(
                PnlYtd.month.in_(signs)
            )
        )
        # Entries not spread yet: each adds to the months' sums when it lies in them.
        # Looked for first: with none (the consumer idle), a period of whole months
        # stays one part, summed without a second grouping.
        within = PnlYtdPending.month.between(*months)
        if session.scalar(
            select(literal(1)).where(PnlYtdPending.currency == args["currency"], within).limit(1)
        ):
            selects.append(_customer_part(PnlYtdPending, args).where(within))
    return selects or [_customer_part(PnlDaily, args).where(literal(False))]


def _whole_months(session, args, parts):
    """(first, last) whole month of the period; an open end is where the rows end."""
    first, after = parts.first_month, parts.after_months
    if first is None or after is None:
        low, high = (session.scalar(_edge(edge, args["currency"])) for edge in (func.min, func.max))
        if low is None:
            return None
        first, after = first or low, after or periods.next_month(high)
    return (first, periods.month_before(after)) if first < after else None


def _edge(edge, currency: str):
    """The first or last month (``edge``: ``func.min``, ``func.max``) with P&L rows in
    ``currency``, spread or pending. Each edge is its own statement, a seek in each
    table's key order (MIN and MAX together are a scan); both tables are in it, as a
    fold moves rows from one to the other."""
    both = union_all(
        *(
            select(edge(model.month).label("month")).where(model.currency == currency)
            for model in (PnlYtd, PnlYtdPending)
        )
    ).subquery()
    return select(edge(both.c.month))


def _customer_part(model, args, signed=lambda column: column):
    sums = [func.sum(signed(getattr(model, n))) for n in AMOUNTS + ("sales",)]
    query = select(
        model.customer_id,
        *(type_coerce(total, Money()).label(n) for total, n in zip(sums, AMOUNTS)),
        sums[-1].label("sales"),
    )
    query = query.where(model.currency == args["currency"])
    if args.get("segment") is not None:
        query = query.join(CustomerSegment, CustomerSegment.customer_id == model.customer_id).where(
            CustomerSegment.segment == args["segment"]
        )
    return query.group_by(model.customer_id)


def _customers(session, args):
    """Each customer's exact sums of the period; customers whose figures there are
    all zero (nothing in the period, or entries that cancel out) are left out. A
    period of one part is that part: summing parts again per customer costs a sort;
    and the test is on the sums (a HAVING would compute them again)."""
    parts = _per_customer(session, args)
    if len(parts) == 1:
        rows = parts[0].subquery()
    else:
        union = union_all(*parts).subquery()
        rows = (
            select(
                union.c.customer_id,
                *(type_coerce(func.sum(union.c[n]), Money()).label(n) for n in AMOUNTS),
                func.sum(union.c.sales).label("sales"),
            )
            .group_by(union.c.customer_id)
            .subquery()
        )
    return select(rows).where(or_(*(rows.c[n] != 0 for n in AMOUNTS + ("sales",))))


def _by_customer(session, args):
    return session.connection().execute(_customers(session, args)).all()


def _customer_sums(session, args):
    """(customers, Σ over customers of each customer's exact sums), summed in the
    database from the per-customer roll-ups: a separate path from the cube's."""
    rows = _customers(session, args).subquery()
    return (
        session.connection()
        .execute(
            select(func.count(), *(type_coerce(func.sum(rows.c[n]), Money()) for n in AMOUNTS))
        )
        .one()
    )


def _group_column(by: str):
    if by in ("day", "month"):
        return PnlCube.day
    return PnlCube.segment


def figures(values) -> dict:
    sums = dict(zip(AMOUNTS, (v if v is not None else ZERO for v in values[:-1])))
    margin = sums["revenue"] - sums["returns"] - sums["cost_of_goods"]
    net = margin - sums["cost_to_serve"] - sums["allocations"]
    out = {name: to_cents(value) for name, value in sums.items()}
    return {
        **out,
        "cost": out["cost_of_goods"],
        "margin": to_cents(margin),
        "net_contribution": to_cents(net),
        "sales": int(values[-1] or 0),
        "_exact": (sums, margin, net),
    }


def pnl_report(uow, args: dict, reconcile: bool = True, zone=None) -> dict:
    check_period(args.get("start"), args.get("end"))
    by = args.get("group_by", "segment")
    with uow.reader() as session:
        rows = (
            _by_customer(session, args)
            if by == "customer"
            else _sums(session, args, _group_column(by))
        )
        survivors = reconciliation.survivors(session) if by == "customer" else {}
        customers = _customer_sums(session, args) if reconcile else None
        total = _sums(session, args)[0]
        ledger = reconciliation.reconcile(session, args, zone) if reconcile else None
    groups: dict = {}
    for key, *values in rows:
        key = key.strftime("%Y-%m") if by == "month" else survivors.get(key, key)
        exact = groups.setdefault(key, [ZERO] * len(AMOUNTS) + [0])
        for i, value in enumerate(values):
            exact[i] += value or 0
    segments = [
        {by: key, **_public(figures(groups[key]))}
        for key in sorted(groups, key=str)
        if by != "customer" or any(groups[key])
    ]
    totals = figures(total)
    return {
        "currency": args["currency"],
        "start": args.get("start"),
        "end": args.get("end"),
        "group_by": by,
        "segments": segments,
        "totals": _public(totals),
        "reconciliation": reconciliation.combine(customers, totals, ledger) if reconcile else None,
    }


def _public(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def table(report: dict):
    key = report["group_by"]
    columns = [key, *AMOUNTS, "margin", "net_contribution", "sales"]
    return columns, ([row[c] for c in columns] for row in report["segments"])


def chart(report: dict, plot):
    rows = report["segments"]
    return plot.bars(
        f"P&L by {report['group_by']} ({report['currency']})",
        [str(r[report["group_by"]]) for r in rows],
        {
            name: [float(r[name]) for r in rows]
            for name in ("revenue", "margin", "net_contribution")
        },
        xlabel=report["group_by"],
        ylabel=f"amount ({report['currency']})",
    )
