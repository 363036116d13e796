"""The product catalogue: products and the history of their prices and unit costs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.sales.db import Base
from shared.types import Money, UTCDateTime


class Product(Base):
    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(200))
    prices: Mapped[list[ProductPrice]] = relationship(
        order_by="ProductPrice.effective_from", lazy="raise"
    )


class ProductPrice(Base):
    """A price and unit cost in effect from ``effective_from`` until the next one;
    append-only, so the price of any past moment can always be told."""

    __tablename__ = "product_prices"

    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    price: Mapped[Decimal] = mapped_column(Money)
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(200))
