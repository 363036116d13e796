"""Product catalogue use cases: products and their price and cost history.

A price change is a new ``ProductPrice`` effective from a moment; nothing is
overwritten, so the price and unit cost in effect at any past moment (the moment
of a sale) can always be told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from services.sales.catalogue.tables import Product, ProductPrice
from services.sales.ledger import amounts
from shared.clock import utcnow
from shared.db import in_chunks
from shared.errors import Conflict, NotFound
from shared.web.pagination import decode_cursor, page


def create_product(uow, data: dict, created_by: str) -> Product:
    now = utcnow()
    with uow() as work:
        if work.session.get(Product, data["sku"]) is not None:
            raise Conflict(f"a product with SKU {data['sku']} already exists")
        product = Product(
            sku=data["sku"],
            name=data["name"],
            category=data["category"],
            currency=data["currency"],
            created_at=now,
            created_by=created_by,
            prices=[_price(data, now, created_by)],
        )
        work.session.add(product)
    return product


def add_price(uow, sku: str, data: dict, recorded_by: str) -> Product:
    """A new price and unit cost from ``effective_from`` (now by default)."""
    now = utcnow()
    with uow() as work:
        product = _load(work.session, sku)
        price = _price(data, now, recorded_by)
        if any(p.effective_from == price.effective_from for p in product.prices):
            raise Conflict(
                f"{sku} already has a price effective from {price.effective_from.isoformat()}"
            )
        work.session.add(price)
        product.prices.append(price)
    return product


def _price(data: dict, now: datetime, by: str) -> ProductPrice:
    effective = data.get("effective_from")
    return ProductPrice(
        sku=data.get("sku"),
        price=amounts.amount(data["price"]),
        unit_cost=amounts.amount(data["unit_cost"]),
        effective_from=effective.astimezone(UTC) if effective else now,
        recorded_at=now,
        recorded_by=by,
    )


def _load(session: Session, sku: str) -> Product:
    product = session.scalar(
        select(Product).where(Product.sku == sku).options(selectinload(Product.prices))
    )
    if product is None:
        raise NotFound(f"no product {sku}")
    return product


def get_product(uow, sku: str) -> Product:
    with uow.reader() as session:
        return _load(session, sku)


def list_products(uow, category: str | None, limit: int, cursor: str | None) -> dict:
    """Products in SKU order."""
    query = (
        select(Product).options(selectinload(Product.prices)).order_by(Product.sku).limit(limit + 1)
    )
    if category:
        query = query.where(Product.category == category)
    after = decode_cursor(cursor, 1)
    if after:
        query = query.where(Product.sku > str(after[0]))
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda p: (p.sku,))


def prices_at(session: Session, skus: set[str], moment: datetime) -> dict[str, tuple]:
    """For each known SKU: (product, the price in effect at ``moment`` or None)."""
    products = {
        p.sku: p
        for p in session.scalars(
            select(Product).where(Product.sku.in_(skus)).options(selectinload(Product.prices))
        )
    }
    return {sku: (product, in_effect(product, moment)) for sku, product in products.items()}


@dataclass
class Listed:
    """A product as a bulk write prices it: its currency and price history (rows
    with ``effective_from``, ``price`` and ``unit_cost``, oldest first)."""

    currency: str
    prices: list


def price_lists(session: Session, skus: set[str]) -> dict[str, Listed]:
    """``Listed`` for each known SKU of ``skus``, read without the ORM (an import
    chunk names thousands)."""
    ordered, found = sorted(skus), {}
    for part in in_chunks(ordered):
        found.update(
            (sku, Listed(currency, []))
            for sku, currency in session.execute(
                select(Product.sku, Product.currency).where(Product.sku.in_(part))
            )
        )
        for row in session.execute(
            select(
                ProductPrice.sku,
                ProductPrice.effective_from,
                ProductPrice.price,
                ProductPrice.unit_cost,
            )
            .where(ProductPrice.sku.in_(part))
            .order_by(ProductPrice.sku, ProductPrice.effective_from)
        ):
            found[row.sku].prices.append(row)
    return found


def in_effect(product: Product | Listed, moment: datetime) -> ProductPrice | None:
    current = None
    for price in product.prices:  # ordered by effective_from
        if price.effective_from <= moment:
            current = price
    return current
