"""Products (with stock), services (no stock) and the stock movement ledger."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at, uuid_pk
from app.domain.constraints import nonneg, nonzero, one_of, positive, trigram_indexes
from app.domain.errors import Code, ConstraintErrors

CATEGORIES = ("FOOD", "TOY", "ACCESSORY", "HEALTH", "HABITAT", "OTHER")
MOVEMENT_REASONS = ("SALE", "REFUND", "RESTOCK", "ADJUSTMENT", "INITIAL")
# What a line of a sale order or a sale holds: a product or a service.
ITEM_TYPES = ("PRODUCT", "SERVICE")


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        nonneg("stock"),
        positive("price"),
        one_of("category", CATEGORIES),
        Index("ix_products_name", "name", "id"),
        *trigram_indexes("ix_products", ("name", "sku")),  # the catalogue's search (views.products_page)
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    category: Mapped[str] = mapped_column(String(16))
    price: Mapped[Decimal]
    stock: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at()
    tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tax_rates.id"))


class Service(Base):
    """Grooming, nail trims and the like: sold at the counter, no stock."""

    __tablename__ = "services"
    __table_args__ = (positive("price"), CheckConstraint("duration_minutes > 0", name="duration_positive"))

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    price: Mapped[Decimal]
    duration_minutes: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at()
    tax_rate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tax_rates.id"))


class StockMovement(Base):
    """Every change of stock, written in the same transaction: stock = sum(delta)."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        nonzero("delta"),
        one_of("reason", MOVEMENT_REASONS),
        Index("ix_stock_movements_product_id_created_at", "product_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"))
    delta: Mapped[int]
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()


# Constraint violations that are expected outcomes, as payload errors.
CONSTRAINT_ERRORS: ConstraintErrors = {
    "uq_products_sku": (Code.CONFLICT, "A product with this SKU already exists", "sku"),
    "ck_products_stock_nonneg": (Code.INSUFFICIENT_STOCK, "Not enough stock", None),
}
