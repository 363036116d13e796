"""Returns and cancellations: reversing entries against a recorded sale.

A return names the sale's lines and quantities taken back; the quantities returned
of a line, over all its returns, can never pass what was sold. What a return
refunds is the line's cent amounts in proportion, cumulatively: the refund so far
is ``round(line amount × returned so far / sold)`` and each return takes the
difference, so returning a line in any number of steps refunds exactly what it
was sold for. A cancellation reverses a whole sale that has no returns.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.sales.ledger import apportion
from services.sales.ledger.sales import load_sale
from services.sales.ledger.tables import ReturnLine, Sale, SaleCancellation, SaleReturn
from services.sales.pnl import booking
from shared.clock import utcnow
from shared.db import retry_transient
from shared.errors import Conflict, Invalid


@retry_transient
def return_sale(uow, sale_id: str, data: dict, by: str, zone: ZoneInfo) -> SaleReturn:
    now = utcnow()
    returned_at = data["returned_at"].astimezone(UTC) if data["returned_at"] else now
    with uow() as work:
        sale = load_sale(work.session, sale_id, lock=True)
        if sale.cancellation is not None:
            raise Conflict(f"sale {sale_id} was cancelled; nothing is left to return")
        if returned_at < sale.recorded_at:
            raise Invalid(
                "a return cannot come before its sale",
                errors={"returned_at": ["Before the sale was recorded."]},
            )
        lines = _return_lines(sale, data["lines"])
        entry = SaleReturn(
            sale_id=sale.id,
            customer_id=sale.customer_id,
            currency=sale.currency,
            returned_at=returned_at,
            seconds_after_sale=int((returned_at - sale.recorded_at).total_seconds()),
            revenue=sum((ln.revenue_cents for ln in lines), Decimal(0)),
            cost=sum((ln.cost_cents for ln in lines), Decimal(0)),
            reason=data["reason"],
            created_at=now,
            created_by=by,
            lines=lines,
        )
        work.session.add(entry)
        work.session.flush()
        sold = {line.line_no: line for line in sale.lines}
        day = booking.local_day(returned_at, zone)
        booking.book(
            work.session,
            [
                _booking(
                    sale,
                    sold[ln.line_no],
                    day,
                    returns=ln.revenue_cents,
                    cost_of_goods=-ln.cost_cents,
                )
                for ln in lines
            ],
            zone,
        )
        work.emit(
            "sale.returned",
            {
                "return_id": entry.id,
                "sale_id": sale.id,
                "customer_id": sale.customer_id,
                "currency": sale.currency,
                "returned_at": returned_at,
                "revenue": entry.revenue,
                "cost": entry.cost,
                "segment": sale.segment,
                "lines": [
                    {
                        "sku": sold[ln.line_no].sku,
                        "description": sold[ln.line_no].description,
                        "quantity": ln.quantity,
                        "unit_price": sold[ln.line_no].unit_price,
                        "unit_cost": sold[ln.line_no].unit_cost,
                    }
                    for ln in lines
                ],
            },
        )
    return entry


def _return_lines(sale: Sale, wanted: list[dict]) -> list[ReturnLine]:
    sold = {line.line_no: line for line in sale.lines}
    before: dict[int, Decimal] = {}
    for earlier in sale.returns:
        for line in earlier.lines:
            before[line.line_no] = before.get(line.line_no, Decimal(0)) + line.quantity
    lines, errors, seen = [], {}, set()
    for index, item in enumerate(wanted):
        line = sold.get(item["line_no"])
        taken = before.get(item["line_no"], Decimal(0))
        if line is None:
            errors[index] = {"line_no": [f"The sale has no line {item['line_no']}."]}
        elif item["line_no"] in seen:
            errors[index] = {"line_no": ["Named twice in one return."]}
        elif taken + item["quantity"] > line.quantity:
            errors[index] = {
                "quantity": [
                    f"Only {line.quantity - taken:f} of {line.quantity:f} sold are left to return."
                ]
            }
        else:
            after = taken + item["quantity"]
            lines.append(
                ReturnLine(
                    line_no=line.line_no,
                    sale_id=sale.id,
                    quantity=item["quantity"],
                    revenue_cents=apportion.cumulative_share(
                        line.revenue_cents, taken, after, line.quantity
                    ),
                    cost_cents=apportion.cumulative_share(
                        line.cost_cents, taken, after, line.quantity
                    ),
                )
            )
        seen.add(item["line_no"])
    if errors:
        raise Invalid("the return asks for more than can be returned", errors={"lines": errors})
    return lines


@retry_transient
def cancel_sale(uow, sale_id: str, reason: str, by: str, zone: ZoneInfo) -> SaleCancellation:
    """Reverse a whole sale: every amount it booked is booked again negated."""
    now = utcnow()
    with uow() as work:
        sale = load_sale(work.session, sale_id, lock=True)
        if sale.cancellation is not None:
            raise Conflict(f"sale {sale_id} is already cancelled")
        if sale.returns:
            raise Conflict(f"sale {sale_id} has returns; return the rest instead of cancelling it")
        cancellation = SaleCancellation(
            sale_id=sale.id, cancelled_at=now, reason=reason, created_by=by
        )
        work.session.add(cancellation)
        day = booking.local_day(now, zone)
        booking.book(
            work.session,
            [
                _booking(
                    sale,
                    line,
                    day,
                    revenue=-(line.revenue_cents + line.discount_cents),
                    discounts=-line.discount_cents,
                    cost_of_goods=-line.cost_cents,
                )
                for line in sale.lines
            ],
            zone,
        )
        work.emit(
            "sale.cancelled",
            {
                "sale_id": sale.id,
                "customer_id": sale.customer_id,
                "currency": sale.currency,
                "revenue": sale.revenue,
                "cost": sale.cost,
                "discount": sale.discount,
                "reason": reason,
                "segment": sale.segment,
                "cancelled_at": now,
            },
        )
    return cancellation


def _booking(sale: Sale, line, day, **amounts) -> dict:
    return booking.entry(
        day,
        sale.currency,
        sale.customer_id,
        product=line.sku,
        channel=sale.channel,
        team=sale.team,
        agent_kind=sale.agent_kind,
        **amounts,
    )
