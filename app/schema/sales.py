"""GraphQL types of the contract: sales."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from app.schema.accounts import User
from app.schema.catalog import Product
from app.schema.common import Money, PageInfo, UserError
from app.schema.coupons import Coupon


@strawberry.enum
class SaleItemType(Enum):
    PRODUCT = "PRODUCT"
    SERVICE = "SERVICE"


@strawberry.type
class CartItem:
    product: Product
    quantity: int
    line_total: Money


@strawberry.type
class Cart:
    id: strawberry.ID
    items: list[CartItem]
    subtotal: Money
    discount: Money = strawberry.field(description='Coupon discount as it would apply now; re-checked at checkout.')
    total: Money
    updated_at: datetime
    coupon: Coupon | None = None


@strawberry.type
class CartPayload:
    errors: list[UserError]
    cart: Cart | None = None


@strawberry.enum
class SaleChannel(Enum):
    ONLINE = "ONLINE"
    POS = "POS"


@strawberry.enum
class SaleStatus(Enum):
    COMPLETED = "COMPLETED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"


@strawberry.enum
class PaymentMethod(Enum):
    CASH = "CASH"
    CARD = "CARD"
    ONLINE = "ONLINE"


@strawberry.type
class SaleLine:
    id: strawberry.ID
    item_type: SaleItemType
    item_id: strawberry.ID
    name: str
    unit_price: Money
    quantity: int
    discount: Money
    line_total: Money
    refunded_quantity: int


@strawberry.type
class Sale:
    id: strawberry.ID
    number: str = strawberry.field(description='Human-readable, gap-free per database: S-000001, S-000002, ...')
    channel: SaleChannel
    status: SaleStatus
    lines: list[SaleLine]
    subtotal: Money
    coupon_discount: Money
    points_discount: Money
    total: Money
    points_redeemed: int
    points_earned: int
    payment_method: PaymentMethod
    refunds: list[Refund]
    created_at: datetime
    customer: User | None = None
    coupon_code: str | None = None
    amount_tendered: Money | None = None
    change: Money | None = None


@strawberry.type
class SaleEdge:
    node: Sale
    cursor: str


@strawberry.type
class SaleConnection:
    edges: list[SaleEdge]
    page_info: PageInfo


@strawberry.input
class CheckoutInput:
    idempotency_key: str = strawberry.field(description='Client-generated; a repeat with the same key returns the first result.')
    redeem_points: int | None = 0


@strawberry.type
class CheckoutPayload:
    replayed: bool = strawberry.field(description='True when this response replays an earlier request with the same key.')
    errors: list[UserError]
    sale: Sale | None = None


@strawberry.input
class RefundLineInput:
    sale_line_id: strawberry.ID
    quantity: int


@strawberry.input
class RefundInput:
    sale_id: strawberry.ID
    lines: list[RefundLineInput] | None = strawberry.field(default=None, description='Omit to refund everything not yet refunded.')
    reason: str
    idempotency_key: str


@strawberry.type
class RefundLine:
    sale_line: SaleLine
    quantity: int
    amount: Money


@strawberry.type
class Refund:
    id: strawberry.ID
    sale: Sale
    lines: list[RefundLine]
    amount: Money
    points_reversed: int
    points_restored: int
    reason: str
    created_at: datetime


@strawberry.type
class RefundPayload:
    replayed: bool
    errors: list[UserError]
    refund: Refund | None = None
