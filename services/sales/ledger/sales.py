"""Recording and reading sales: each use case opens one unit of work and emits its
events in it; the P&L summary is booked in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from services.sales.catalogue.products import prices_at
from services.sales.customers.tables import Customer
from services.sales.db import new_id
from services.sales.deals.tables import Deal
from services.sales.ledger import amounts
from services.sales.ledger.tables import Sale, SaleLine
from services.sales.pnl import booking
from services.sales.pnl.tables import CallCost
from shared.clock import utcnow
from shared.db import retry_transient
from shared.errors import Conflict, Invalid, NotFound
from shared.web.pagination import decode_time_cursor, page

AMOUNTS = ("quantity", "unit_price", "unit_cost", "discount")
LINE_FIELDS = ("sku", "description", *AMOUNTS)
ATTRIBUTION = ("channel", "team", "agent_kind")


@retry_transient
def record_sale(uow, data: dict, recorded_by: str, zone: ZoneInfo) -> Sale:
    """Append a sale to the ledger, book it in the P&L and emit ``sale.recorded``.

    A customer this service has not heard of yet is accepted (its registration may
    still be on its way); the sale then says ``customer_known`` is false and is
    listed as an irregularity until it arrives. A sale with an ``external_ref``
    already on file is refused (409): at most one sale a reference."""
    now = utcnow()
    recorded_at = data["recorded_at"].astimezone(UTC) if data["recorded_at"] else now
    with uow() as work:
        session = work.session
        ref = data.get("external_ref")
        if ref:
            _refuse_known_ref(session, ref)
        skus = {line["sku"] for line in data["lines"] if line["sku"]}
        catalogue = prices_at(session, skus, recorded_at) if skus else {}
        customer = session.get(Customer, data["customer_id"])
        entry = build_entry(
            data,
            catalogue,
            customer.segment if customer else None,
            attribution(session, data),
            new_id(),
            recorded_by,
            now,
            zone,
        )
        sale = Sale(
            **as_amounts(entry.sale, SALE_MONEY),
            lines=[SaleLine(**as_amounts(line, LINE_MONEY)) for line in entry.lines],
            returns=[],
            cancellation=None,
        )
        session.add(sale)
        try:
            session.flush()
        except IntegrityError:  # the same reference recorded meanwhile
            session.rollback()
            _refuse_known_ref(session, ref)
            raise
        session.refresh(sale, ["customer"])  # read while the session is open
        booking.book(session, entry.bookings, zone)
        work.emit("sale.recorded", entry.event)
    return sale


def _refuse_known_ref(session: Session, ref: str) -> None:
    known = session.scalar(select(Sale.id).where(Sale.external_ref == ref))
    if known is not None:
        raise Conflict(f"sale {known} already has external_ref {ref}")


@dataclass
class Entry:
    """Everything one sale writes: its ledger rows, its P&L bookings, its event.

    The rows' money (``MONEY``) is in whole ten-thousandths, the stored form of a
    ``Money`` column (``amounts.UNITS``): written as it is, no amount converted
    again (``as_amounts`` gives the ``Decimal``s an ORM row takes)."""

    sale: dict
    lines: list[dict]
    bookings: list[dict]
    event: dict


SALE_MONEY = ("revenue", "cost", "discount")
LINE_MONEY = (*AMOUNTS, "revenue_cents", "discount_cents", "cost_cents")


def as_amounts(row: dict, names) -> dict:
    """``row`` with its ``names`` given in ten-thousandths as amounts (``Decimal``)."""
    return {**row, **{name: Decimal(row[name]).scaleb(-amounts.PLACES_OF_UNITS) for name in names}}


def build_entry(
    data: dict,
    catalogue: dict,
    segment: str | None,
    attributed: dict,
    sale_id: str,
    recorded_by: str,
    now: datetime,
    zone: ZoneInfo,
) -> Entry:
    """A sale as it is recorded, checked (``Invalid`` naming every bad line) with
    ``catalogue`` ({sku: (product, price in effect at its time)}) and the customer's
    ``segment``; nothing read or written here, so one sale and an import of many
    are the same rows."""
    recorded_at = data["recorded_at"].astimezone(UTC) if data["recorded_at"] else now
    lines, shown, exact = _lines(data, catalogue)
    totals = amounts.cents_of(exact)
    day = booking.local_day(recorded_at, zone)
    currency, customer_id = data["currency"], data["customer_id"]
    channel, team, agent_kind = attributed["channel"], attributed["team"], attributed["agent_kind"]
    bookings = []
    for line, (revenue, discount, cost) in zip(lines, totals.lines):
        line["revenue_cents"] = revenue * _CENT
        line["discount_cents"] = discount * _CENT
        line["cost_cents"] = cost * _CENT
        line["sale_id"] = sale_id
        bookings.append(
            booking.entry_of_units(
                day,
                currency,
                customer_id,
                product=line["sku"],
                channel=channel,
                team=team,
                agent_kind=agent_kind,
                revenue=line["revenue_cents"] + line["discount_cents"],
                discounts=line["discount_cents"],
                cost_of_goods=line["cost_cents"],
            )
        )
    sale = {
        "id": sale_id,
        "external_ref": data.get("external_ref"),
        "customer_id": customer_id,
        "currency": currency,
        "recorded_at": recorded_at,
        "revenue": totals.revenue * _CENT,
        "cost": totals.cost * _CENT,
        "discount": totals.discount * _CENT,
        "segment": segment,
        "below_cost": any(revenue < cost for revenue, _, cost in exact),
        "approval_reason": data["approval_reason"],
        "created_at": now,
        "created_by": recorded_by,
        **attributed,
    }
    event = {
        "sale_id": sale_id,
        "customer_id": customer_id,
        "currency": currency,
        "recorded_at": recorded_at,
        "revenue": amounts.of_cents(totals.revenue),
        "cost": amounts.of_cents(totals.cost),
        "discount": amounts.of_cents(totals.discount),
        "segment": segment,
        "deal_id": sale["deal_id"],
        "source_call_id": sale["source_call_id"],
        "lines": shown,
        "external_ref": sale["external_ref"],
    }
    return Entry(sale, lines, bookings, event)


_CENT = amounts.UNITS // 100  # a cent in ten-thousandths


def _lines(data: dict, catalogue: dict) -> tuple[list[dict], list[dict], list[tuple]]:
    """The sale's lines as stored (money in ten-thousandths) and as its event shows
    them (``LINE_FIELDS``, amounts at four places), catalogue prices filled in, and
    their exact amounts (``amounts.exact_units``); every bad line named at once."""
    lines, shown, exact, errors = [], [], [], {}
    scaled = amounts.scaled
    for index, line in enumerate(data["lines"]):
        problems = _line_problems(line, catalogue, data["currency"])
        if not problems:
            (quantity, q), (price, p), (cost, c), (discount, d) = (
                scaled(line["quantity"]),
                scaled(line["unit_price"]),
                scaled(line["unit_cost"]),
                scaled(line["discount"]),
            )
            amounts_of = amounts.exact_units(q, p, c, d)
            if amounts_of[0] < 0:
                problems = {"discount": ["More than the line's amount (quantity × unit price)."]}
        if problems:
            errors[index] = problems
            continue
        sku, description = line["sku"], line["description"]
        lines.append(
            {
                "line_no": index + 1,
                "sku": sku,
                "description": description,
                "quantity": q,
                "unit_price": p,
                "unit_cost": c,
                "discount": d,
            }
        )
        shown.append(
            {
                "sku": sku,
                "description": description,
                "quantity": quantity,
                "unit_price": price,
                "unit_cost": cost,
                "discount": discount,
            }
        )
        exact.append(amounts_of)
    if errors:
        raise Invalid("one or more lines cannot be recorded", errors={"lines": errors})
    return lines, shown, exact


def _line_problems(line: dict, catalogue: dict, currency: str) -> dict:
    problems: dict[str, list[str]] = {}
    price = None
    if line["sku"]:
        if line["sku"] not in catalogue:
            return {"sku": [f"No product {line['sku']} in the catalogue."]}
        product, price = catalogue[line["sku"]]
        if product.currency != currency:
            return {
                "sku": [
                    f"{line['sku']} is priced in {product.currency}, the sale is in "
                    f"{currency}; mixing currencies needs a rate."
                ]
            }
    for name, source in (("unit_price", "price"), ("unit_cost", "unit_cost")):
        if line[name] is None and price is None:
            problems[name] = [
                "Required: no catalogue price is in effect at the sale's time."
                if line["sku"]
                else "Required for a line without a SKU."
            ]
        elif line[name] is None:
            line[name] = getattr(price, source)
    return problems


def attribution(session: Session, data: dict) -> dict:
    """Deal, source call, channel, team and agent kind: given, or taken from the
    deal and from the call it came from."""
    found = {name: data[name] for name in ("deal_id", "source_call_id", *ATTRIBUTION)}
    if data["deal_id"]:
        deal = session.get(Deal, data["deal_id"])
        if deal is None or deal.customer_id != data["customer_id"]:
            raise Invalid(
                "the deal is not one of this customer's",
                errors={
                    "deal_id": [f"No deal {data['deal_id']} of customer {data['customer_id']}."]
                },
            )
        found["source_call_id"] = found["source_call_id"] or deal.source_call_id
    call = session.get(CallCost, found["source_call_id"]) if found["source_call_id"] else None
    for name in ATTRIBUTION:
        found[name] = found[name] or (getattr(call, name) if call else None)
    return found


def load_sale(session: Session, sale_id: str, lock: bool = False) -> Sale:
    query = (
        select(Sale)
        .where(Sale.id == sale_id)
        .options(
            selectinload(Sale.lines), selectinload(Sale.returns), selectinload(Sale.cancellation)
        )
    )
    sale = session.scalar(query.with_for_update(of=Sale) if lock else query)
    if sale is None:
        raise NotFound(f"no sale {sale_id}")
    return sale


def get_sale(uow, sale_id: str) -> Sale:
    with uow.reader() as session:
        return load_sale(session, sale_id)


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
