"""The sales service's answer to a data access request: everything it holds about
the customer (and the profiles merged into it), sent back to the customer service as
``subject.export_contributed`` parts.

Sections: ``customer`` (this service's copy of the profile and the merges it knows),
``deals`` (each with its stage history), ``sales`` (each with its lines, its returns
and their lines, and its cancellation) and ``call_costs`` (the cost booked for each of
the customer's calls). An erased customer's copy here has no name left
(``customers.customer_erased``), so what goes is the anonymous skeleton.
"""

from __future__ import annotations

from sqlalchemy import select

from services.sales.customers.tables import Customer, CustomerAlias
from services.sales.deals.tables import Deal, DealStage
from services.sales.ledger.tables import ReturnLine, Sale, SaleCancellation, SaleLine, SaleReturn
from services.sales.pnl.tables import CallCost
from shared.clock import utcnow
from shared.events.export_parts import payloads, record

SERVICE = "sales"
CUSTOMER = ("customer_id", "segment", "name", "as_of", "erased")
ALIAS = ("merged_id", "survivor_id", "merged_at")
DEAL = (
    "id",
    "customer_id",
    "title",
    "stage",
    "stage_entered_at",
    "probability",
    "amount",
    "currency",
    "owner",
    "source_call_id",
    "segment",
    "lost_reason",
    "created_at",
    "created_by",
)
STAGE = ("seq", "stage", "entered_at", "probability", "changed_by", "note")
SALE = (
    "id",
    "customer_id",
    "currency",
    "recorded_at",
    "revenue",
    "cost",
    "discount",
    "segment",
    "channel",
    "team",
    "deal_id",
    "source_call_id",
    "approval_reason",
    "created_at",
    "created_by",
)
LINE = ("line_no", "sku", "description", "quantity", "unit_price", "unit_cost", "discount")
RETURN = ("id", "returned_at", "revenue", "cost", "reason", "created_at", "created_by")
RETURN_LINE = ("line_no", "quantity", "revenue_cents", "cost_cents")
CANCELLATION = ("cancelled_at", "reason", "created_by")
CALL_COST = (
    "call_id",
    "customer_id",
    "completed_at",
    "cost",
    "currency",
    "outcome",
    "channel",
    "partner_id",
)


def _grouped(rows, key: str, names) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in rows:
        grouped.setdefault(getattr(row, key), []).append(record(row, names))
    return grouped


def _deals(session, ids: list[str]) -> list[dict]:
    deals = list(
        session.scalars(
            select(Deal).where(Deal.customer_id.in_(ids)).order_by(Deal.created_at, Deal.id)
        )
    )
    stages = _grouped(
        session.scalars(
            select(DealStage)
            .where(DealStage.deal_id.in_([d.id for d in deals]))
            .order_by(DealStage.seq)
        ),
        "deal_id",
        STAGE,
    )
    return [{**record(d, DEAL), "stage_history": stages.get(d.id, [])} for d in deals]


def _sales(session, ids: list[str]) -> list[dict]:
    sales = list(
        session.scalars(
            select(Sale).where(Sale.customer_id.in_(ids)).order_by(Sale.recorded_at, Sale.id)
        )
    )
    sale_ids = [s.id for s in sales]
    lines = _grouped(
        session.scalars(
            select(SaleLine).where(SaleLine.sale_id.in_(sale_ids)).order_by(SaleLine.line_no)
        ),
        "sale_id",
        LINE,
    )
    returns = list(
        session.scalars(
            select(SaleReturn)
            .where(SaleReturn.sale_id.in_(sale_ids))
            .order_by(SaleReturn.returned_at)
        )
    )
    return_lines = _grouped(
        session.scalars(
            select(ReturnLine)
            .where(ReturnLine.return_id.in_([r.id for r in returns]))
            .order_by(ReturnLine.line_no)
        ),
        "return_id",
        RETURN_LINE,
    )
    returned: dict[str, list[dict]] = {}
    for r in returns:
        returned.setdefault(r.sale_id, []).append(
            {**record(r, RETURN), "lines": return_lines.get(r.id, [])}
        )
    cancelled = {
        c.sale_id: record(c, CANCELLATION)
        for c in session.scalars(
            select(SaleCancellation).where(SaleCancellation.sale_id.in_(sale_ids))
        )
    }
    return [
        {
            **record(s, SALE),
            "lines": lines.get(s.id, []),
            "returns": returned.get(s.id, []),
            "cancellation": cancelled.get(s.id),
        }
        for s in sales
    ]


def sections(session, ids: list[str]) -> dict[str, list[dict]]:
    """Every record this service holds about the customers ``ids``."""
    return {
        "customer": [
            record(c, CUSTOMER)
            for c in session.scalars(select(Customer).where(Customer.customer_id.in_(ids)))
        ],
        "merges": [
            record(a, ALIAS)
            for a in session.scalars(select(CustomerAlias).where(CustomerAlias.merged_id.in_(ids)))
        ],
        "deals": _deals(session, ids),
        "sales": _sales(session, ids),
        "call_costs": [
            record(c, CALL_COST)
            for c in session.scalars(
                select(CallCost)
                .where(CallCost.customer_id.in_(ids))
                .order_by(CallCost.completed_at)
            )
        ],
    }


def contribute(work, request: dict) -> None:
    """Answer the request in the handler's transaction: the parts leave through the
    outbox exactly once, however often the request is delivered."""
    found = sections(work.session, request["customer_ids"])
    work.emit_many("subject.export_contributed", payloads(request, SERVICE, found, utcnow()))
