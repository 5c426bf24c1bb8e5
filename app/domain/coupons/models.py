"""Coupons: PERCENT or FIXED discounts with a validity window, a minimum subtotal and a usage limit."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, created_at, uuid_pk
from app.domain.constraints import one_of
from app.domain.errors import Code, ConstraintErrors

KINDS = ("PERCENT", "FIXED")


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (
        one_of("kind", KINDS),
        CheckConstraint("value > 0 AND (kind = 'FIXED' OR value <= 100)", name="value_in_range"),
        CheckConstraint("usage_limit IS NULL OR usage_limit > 0", name="usage_limit_positive"),
        CheckConstraint("usage_limit IS NULL OR times_used <= usage_limit", name="usage_within_limit"),
        CheckConstraint("starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at", name="window_ordered"),
        # No limit is NULL; ±infinity would read back as a moment without an offset.
        CheckConstraint("isfinite(starts_at) AND isfinite(ends_at)", name="window_finite"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    # Stored upper-case: codes are case-insensitive.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[Decimal]
    min_subtotal: Mapped[Decimal | None]
    usage_limit: Mapped[int | None]
    times_used: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = created_at()


# Constraint violations that are expected outcomes, as payload errors.
CONSTRAINT_ERRORS: ConstraintErrors = {
    "uq_coupons_code": (Code.CONFLICT, "A coupon with this code already exists", "code"),
    "ck_coupons_usage_within_limit": (
        Code.COUPON_USAGE_LIMIT_REACHED,
        "This coupon has been used up",
        "couponCode",
    ),
}
