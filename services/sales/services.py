"""Sales use cases: each opens one unit of work and emits its events in it."""
from __future__ import annotations

from datetime import timezone

from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from services.sales import ledger
from services.sales.models import Customer, Sale, SaleLine
from shared.errors import NotFound
from shared.messaging.tables import utcnow
from shared.messaging.unit_of_work import UnitOfWork
from shared.web.pagination import decode_time_cursor, page

AMOUNTS = ("quantity", "unit_price", "unit_cost")
LINE_FIELDS = ("sku", "description", *AMOUNTS)


def record_sale(uow, data: dict, recorded_by: str) -> Sale:
    """Append a sale to the ledger and emit ``sale.recorded`` with it.

    A customer this service has not heard of yet is accepted (its registration may
    still be on its way); the sale then says ``customer_known`` is false."""
    lines = [_line(no, line) for no, line in enumerate(data["lines"], start=1)]
    totals = ledger.totals(_pick(line, AMOUNTS) for line in lines)
    now = utcnow()
    recorded_at = data["recorded_at"].astimezone(timezone.utc) if data["recorded_at"] else now
    with uow() as work:
        sale = Sale(customer_id=data["customer_id"], currency=data["currency"],
                    recorded_at=recorded_at, revenue=totals.revenue,
                    cost=totals.cost, created_at=now, created_by=recorded_by, lines=lines)
        work.session.add(sale)
        work.session.flush()
        work.session.refresh(sale, ["customer"])  # read while the session is open
        work.emit("sale.recorded", {
            "sale_id": sale.id, "customer_id": sale.customer_id, "currency": sale.currency,
            "recorded_at": sale.recorded_at, "revenue": sale.revenue, "cost": sale.cost,
            "lines": [_pick(line, LINE_FIELDS) for line in lines],
        })
    return sale


def _pick(obj, names) -> dict:
    return {name: getattr(obj, name) for name in names}


def _line(line_no: int, data: dict) -> SaleLine:
    return SaleLine(line_no=line_no, sku=data["sku"], description=data["description"],
                    quantity=ledger.amount(data["quantity"]),
                    unit_price=ledger.amount(data["unit_price"]),
                    unit_cost=ledger.amount(data["unit_cost"]))


def get_sale(uow, sale_id: str) -> Sale:
    with uow.reader() as session:
        sale = session.scalar(select(Sale).where(Sale.id == sale_id)
                              .options(selectinload(Sale.lines)))
    if sale is None:
        raise NotFound(f"no sale {sale_id}")
    return sale


def list_sales(uow, customer_id: str | None, limit: int, cursor: str | None) -> dict:
    """Sales, newest first, optionally of one customer; lines are in each sale's detail."""
    query = select(Sale).order_by(Sale.recorded_at.desc(), Sale.id.desc()).limit(limit + 1)
    if customer_id:
        query = query.where(Sale.customer_id == customer_id)
    before = decode_time_cursor(cursor)
    if before:
        query = query.where(tuple_(Sale.recorded_at, Sale.id) < before)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda s: (s.recorded_at.isoformat(), s.id))


def project_registered_customer(work: UnitOfWork, customer: dict) -> None:
    """Insert or refresh what this service knows of a customer."""
    known = work.session.get(Customer, customer["customer_id"])
    if known is None:
        work.session.add(Customer(customer_id=customer["customer_id"],
                                  segment=customer["segment"], name=customer["name"]))
        return
    known.segment, known.name = customer["segment"], customer["name"]
