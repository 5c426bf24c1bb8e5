"""GraphQL types of the contract: coupons."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from app.schema.common import Money, UserError


@strawberry.enum
class CouponKind(Enum):
    PERCENT = "PERCENT"
    FIXED = "FIXED"


@strawberry.type
class Coupon:
    id: strawberry.ID
    code: str
    kind: CouponKind
    value: Decimal = strawberry.field(description="Percent (0-100) for PERCENT, an amount for FIXED.")
    times_used: int
    active: bool
    min_subtotal: Money | None = None
    usage_limit: int | None = strawberry.field(
        description="Total number of sales that may use it; null means unlimited.", default=None
    )
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @classmethod
    def from_model(cls, c) -> Coupon:
        return cls(
            id=strawberry.ID(str(c.id)),
            code=c.code,
            kind=CouponKind(c.kind),
            value=c.value,
            times_used=c.times_used,
            active=c.active,
            min_subtotal=Money.of(c.min_subtotal),
            usage_limit=c.usage_limit,
            starts_at=c.starts_at,
            ends_at=c.ends_at,
        )


@strawberry.input
class CouponInput:
    code: str
    kind: CouponKind
    value: Decimal
    min_subtotal: Decimal | None = None
    usage_limit: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None


@strawberry.type
class CouponPayload:
    errors: list[UserError]
    coupon: Coupon | None = None
