"""POS sale orders and their lines. The order row coordinates every change to its lines."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at, uuid_pk
from app.domain.catalog.models import ITEM_TYPES as ITEM_TYPES  # items.py reads it here
from app.domain.constraints import one_of, positive, quantity_in_range
from app.domain.errors import Code, ConstraintErrors
from app.domain.fields import MAX_QUANTITY
from app.domain.taxes.models import Rate

ORDER_STATUSES = ("DRAFT", "CHECKED_OUT", "MERGED", "CANCELLED")
MODES = ("STANDARD", "CUSTOM")

# The predicate of the one-STANDARD-line-per-item index, also the ON CONFLICT target of
# the upserts: a literal, since a bound parameter cannot be matched to the index once
# PostgreSQL switches the prepared statement to a generic plan (after 5 executions).
STANDARD_LINE = text("mode = 'STANDARD'")

# O-000001: six digits at least, more past O-999999 (lpad would cut them to six, and repeat numbers).
ORDER_NUMBER_DEFAULT = text("'O-' || translate(format('%6s', nextval('sale_order_number_seq')), ' ', '0')")


class SaleOrder(Base):
    __tablename__ = "sale_orders"
    __table_args__ = (
        one_of("status", ORDER_STATUSES),
        CheckConstraint("(status = 'MERGED') = (merged_into_id IS NOT NULL)", name="merged_into_when_merged"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("(status = 'CHECKED_OUT') = (sale_id IS NOT NULL)", name="sale_when_checked_out"),
        CheckConstraint(
            "manual_discount >= 0 AND (discount_percent IS NULL OR discount_percent BETWEEN 0 AND 100)"
            " AND (discount_limit_percent IS NULL OR discount_limit_percent BETWEEN 0 AND 100)",
            name="manual_discount_in_range",
        ),
        Index("ix_sale_orders_created_at", "created_at", "id"),
        Index("ix_sale_orders_status_created_at", "status", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    number: Mapped[str] = mapped_column(String(16), unique=True, server_default=ORDER_NUMBER_DEFAULT)
    label: Mapped[str | None] = mapped_column(String(100))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), server_default=text("'DRAFT'"))
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sale_orders.id"))
    # The sale of a checked-out order; a sale comes from at most one order.
    sale_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales.id"), unique=True)
    version: Mapped[int] = mapped_column(server_default=text("1"))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Staff discount (setSaleOrderDiscount): an amount, or a percent of the lines' total, never more
    # than the giver's role allowed (discount_limit_percent) of the lines as they are at checkout.
    manual_discount: Mapped[Decimal] = mapped_column(server_default=text("0"))
    discount_percent: Mapped[Decimal | None] = mapped_column(Rate)
    discount_limit_percent: Mapped[Decimal | None] = mapped_column(Rate)
    discount_reason: Mapped[str | None] = mapped_column(Text)


class SaleOrderItem(Base):
    """A line. STANDARD lines are unique per (order, item type, item): a second add of
    the same item merges into the line (the partial unique index is the backstop and
    lets the add be one upsert); CUSTOM lines never merge and may carry their own
    price, discount and note."""

    __tablename__ = "sale_order_items"
    __table_args__ = (
        one_of("item_type", ITEM_TYPES),
        one_of("mode", MODES),
        positive("unit_price"),
        quantity_in_range(),
        CheckConstraint("discount >= 0 AND discount <= unit_price * quantity", name="discount_in_range"),
        CheckConstraint("mode = 'CUSTOM' OR (discount = 0 AND note IS NULL)", name="standard_lines_plain"),
        Index("ix_sale_order_items_order_id_created_at", "order_id", "created_at", "id"),
        Index(
            "uq_sale_order_items_standard_line",
            "order_id",
            "item_type",
            "item_id",
            unique=True,
            postgresql_where=STANDARD_LINE,
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sale_orders.id", ondelete="CASCADE"))
    item_type: Mapped[str] = mapped_column(String(16))
    # A product or a service (item_type says which): no foreign key across two tables.
    item_id: Mapped[uuid.UUID]
    mode: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal]
    quantity: Mapped[int]
    discount: Mapped[Decimal] = mapped_column(server_default=text("0"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()


# Constraint violations that are expected outcomes, as payload errors.
CONSTRAINT_ERRORS: ConstraintErrors = {
    "ck_sale_order_items_quantity_in_range": (
        Code.VALIDATION,
        f"A line holds between 1 and {MAX_QUANTITY} units",
        "quantity",
    ),
    "ck_sale_order_items_discount_in_range": (
        Code.VALIDATION,
        "The discount must be between 0 and the line's price times quantity",
        "discount",
    ),
    "fk_sale_orders_customer_id_users": (Code.NOT_FOUND, "Customer not found", "customerId"),
}
