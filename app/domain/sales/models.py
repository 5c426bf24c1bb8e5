"""Carts, sales with their lines, refunds, and idempotency keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at, uuid_pk
from app.domain.catalog.models import ITEM_TYPES
from app.domain.constraints import nonneg, one_of, positive, quantity_in_range
from app.domain.errors import Code, ConstraintErrors
from app.domain.fields import MAX_QUANTITY
from app.domain.taxes.models import Rate

CHANNELS = ("ONLINE", "POS")
SALE_STATUSES = ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")
# How a sale is paid (its tenders, app/domain/sales/tenders.py) and a refund paid back.
METHODS = ("CASH", "CARD", "ONLINE")


class Cart(Base):
    """One cart per customer, emptied by checkout; its row coordinates every change to it."""

    __tablename__ = "carts"

    id: Mapped[uuid.UUID] = uuid_pk()
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    coupon_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("coupons.id"))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_at: Mapped[datetime] = created_at()


# How checkout's errors name a cart line (by its place in the cart, oldest first).
CART_LINE = "cart.items.{}"


class CartItem(Base):
    __tablename__ = "cart_items"
    __table_args__ = (UniqueConstraint("cart_id", "product_id"), quantity_in_range())

    id: Mapped[uuid.UUID] = uuid_pk()
    cart_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]
    created_at: Mapped[datetime] = created_at()


class Sale(Base):
    __tablename__ = "sales"
    __table_args__ = (
        one_of("channel", CHANNELS),
        one_of("status", SALE_STATUSES),
        one_of("payment_method", METHODS),
        # Tax comes on top of tax-exclusive prices; prices that include it already hold it.
        CheckConstraint(
            "total >= 0 AND total = subtotal - manual_discount - coupon_discount - points_discount"
            " + CASE WHEN prices_include_tax THEN 0 ELSE tax END",
            name="total_adds_up",
        ),
        CheckConstraint("manual_discount >= 0 AND tax >= 0", name="discount_and_tax_nonneg"),
        CheckConstraint("refunded_amount BETWEEN 0 AND total", name="refund_within_total"),
        Index("ix_sales_customer_id_created_at", "customer_id", "created_at", "id"),
        Index("ix_sales_created_at", "created_at", "id"),
    )

    # Server defaults come back with the INSERT (created_at is stamped again as the number is drawn).
    __mapper_args__ = {"eager_defaults": True}

    id: Mapped[uuid.UUID] = uuid_pk()
    # S-000001. NULL only inside the unit that records the sale: its last step numbers it
    # (app/domain/sales/numbers.py), and a deferred trigger refuses to commit it unnumbered.
    number: Mapped[str] = mapped_column(String(16), unique=True, nullable=True)
    channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24), default="COMPLETED")
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    subtotal: Mapped[Decimal]
    coupon_discount: Mapped[Decimal]
    points_discount: Mapped[Decimal]
    total: Mapped[Decimal]
    coupon_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("coupons.id"))
    coupon_code: Mapped[str | None] = mapped_column(String(64))
    points_redeemed: Mapped[int]
    points_earned: Mapped[int]
    payment_method: Mapped[str] = mapped_column(String(8))
    amount_tendered: Mapped[Decimal | None]
    change: Mapped[Decimal | None]
    # Running totals of the refunds so far (the sale row is locked while they change).
    refunded_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    points_reversed: Mapped[int] = mapped_column(default=0)
    points_restored: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    # Staff discount of the POS order, taken off before coupon and points.
    manual_discount: Mapped[Decimal] = mapped_column(default=Decimal("0"), server_default=text("0"))
    tax: Mapped[Decimal] = mapped_column(default=Decimal("0"), server_default=text("0"))
    # PETPOS_PRICES_INCLUDE_TAX when sold: whether the tax is inside the total or on top of it.
    prices_include_tax: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    # The cash drawer shift it was rung up in (required when any tender is CASH); its tenders
    # are app/domain/sales/tenders.py SaleTender rows.
    shift_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cash_shifts.id"), index=True)


class SaleLine(Base):
    __tablename__ = "sale_lines"
    __table_args__ = (
        one_of("item_type", ITEM_TYPES),
        quantity_in_range(),
        CheckConstraint("refunded_quantity BETWEEN 0 AND quantity", name="refund_within_quantity"),
        CheckConstraint(
            "discount >= 0 AND line_total = unit_price * quantity - discount", name="total_adds_up"
        ),
        Index("ix_sale_lines_sale_id", "sale_id", "position"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"))
    position: Mapped[int]
    item_type: Mapped[str] = mapped_column(String(8))
    item_id: Mapped[uuid.UUID]
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal]
    quantity: Mapped[int]
    discount: Mapped[Decimal]
    line_total: Mapped[Decimal]
    # This line's share of the sale total after sale-level discounts (coupon, points);
    # the shares add up to the total exactly, so refunding every line returns the total.
    net_total: Mapped[Decimal]
    refunded_quantity: Mapped[int] = mapped_column(default=0)
    # The rate in force when sold (a snapshot; null: untaxed) and the tax on the net total.
    tax_rate: Mapped[Decimal | None] = mapped_column(Rate)
    tax: Mapped[Decimal] = mapped_column(default=Decimal("0"), server_default=text("0"))


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (
        nonneg("amount"),
        one_of("method", METHODS),
        CheckConstraint("method <> 'CASH' OR shift_id IS NOT NULL", name="cash_has_shift"),
        Index("ix_refunds_sale_id", "sale_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    sale_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"))
    amount: Mapped[Decimal]
    points_reversed: Mapped[int]
    points_restored: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    # The tax inside `amount`: each unit's share of its line's tax.
    tax: Mapped[Decimal] = mapped_column(default=Decimal("0"), server_default=text("0"))
    # How the money went back, and the shift whose drawer it came out of (CASH needs one).
    method: Mapped[str] = mapped_column(String(8))
    shift_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cash_shifts.id"), index=True)


class RefundLine(Base):
    __tablename__ = "refund_lines"
    __table_args__ = (positive("quantity"), Index("ix_refund_lines_refund_id", "refund_id"))

    id: Mapped[uuid.UUID] = uuid_pk()
    refund_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("refunds.id", ondelete="CASCADE"))
    sale_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sale_lines.id"))
    quantity: Mapped[int]
    amount: Mapped[Decimal]
    tax: Mapped[Decimal] = mapped_column(default=Decimal("0"), server_default=text("0"))


class IdempotencyKey(Base):
    """A client's key for one operation, with a fingerprint of the request and the result it produced."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "operation", "key"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    operation: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    result_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = created_at()


class SaleNumber(Base):
    """The one counter sale numbers are drawn from (app/domain/sales/numbers.py)."""

    __tablename__ = "sale_numbers"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("last > 0", name="last_positive"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last: Mapped[int] = mapped_column(BigInteger)


# Constraint violations that are expected outcomes, as payload errors.
CONSTRAINT_ERRORS: ConstraintErrors = {
    "ck_cart_items_quantity_in_range": (
        Code.VALIDATION,
        f"A cart line holds at most {MAX_QUANTITY}",
        "quantity",
    ),
    "ck_sale_lines_refund_within_quantity": (Code.REFUND_EXCEEDS_SALE, "More than was sold", "lines"),
    # A concurrent request with the same key for a different record got there first.
    "uq_idempotency_keys_user_id_operation_key": (
        Code.IDEMPOTENCY_KEY_REUSED,
        "This idempotency key was already used for another request",
        "idempotencyKey",
    ),
}
