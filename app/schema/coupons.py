"""GraphQL types of the contract: coupons."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from app.schema.common import Money, Payload
from app.schema.described import DescribedEnum, described_enum
from app.schema.from_model import FromModel


@described_enum("How a coupon takes money off.")
class CouponKind(DescribedEnum):
    PERCENT = "PERCENT", "A percentage of the subtotal."
    FIXED = "FIXED", "A fixed amount, at most the subtotal."


@strawberry.type(description="A discount code for the cart or the POS checkout; one per sale.")
class Coupon(FromModel):
    id: strawberry.ID = strawberry.field(description="The coupon's id.")
    code: str = strawberry.field(description="What the customer types, upper case; unique.")
    kind: CouponKind = strawberry.field(description="Percentage or fixed amount.")
    value: Decimal = strawberry.field(description="Over 0: a percent (at most 100) or an amount, by kind.")
    times_used: int = strawberry.field(
        description="Sales that used it so far (refunds do not give uses back)."
    )
    active: bool = strawberry.field(description="False once deactivated: refused at checkout.")
    min_subtotal: Money | None = strawberry.field(
        description="The least subtotal it applies to; null: any.", default=None
    )
    usage_limit: int | None = strawberry.field(
        description="Total number of sales that may use it; null means unlimited.", default=None
    )
    starts_at: datetime | None = strawberry.field(description="Valid from; null: already.", default=None)
    ends_at: datetime | None = strawberry.field(description="Valid until; null: no end.", default=None)


@strawberry.input(description="A new coupon.")
class CouponInput:
    code: str = strawberry.field(description="1-64 characters without spaces; stored upper case; unique.")
    kind: CouponKind = strawberry.field(description="Percentage or fixed amount.")
    value: Decimal = strawberry.field(description="Over 0: a percent (at most 100) or an amount, by kind.")
    min_subtotal: Decimal | None = strawberry.field(
        description="The least subtotal it applies to; omit for any.", default=None
    )
    usage_limit: int | None = strawberry.field(
        description="Total number of sales that may use it, at least 1; omit for unlimited.", default=None
    )
    starts_at: datetime | None = strawberry.field(description="Valid from; omit for now.", default=None)
    ends_at: datetime | None = strawberry.field(
        description="Valid until, after startsAt and still to come; omit for no end.", default=None
    )


@strawberry.type(description="The outcome of a change to a coupon.")
class CouponPayload(Payload):
    coupon: Coupon | None = strawberry.field(description="The coupon as it now is.", default=None)
