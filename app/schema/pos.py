"""GraphQL types of the contract: pos."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from app.schema.accounts import User
from app.schema.common import Money, PageInfo, UserError
from app.schema.sales import PaymentMethod, Sale, SaleItemType


@strawberry.enum
class SaleOrderStatus(Enum):
    DRAFT = "DRAFT"
    CHECKED_OUT = "CHECKED_OUT"
    MERGED = "MERGED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class SaleItemMode(Enum):
    """STANDARD lines merge by (itemType, itemId); every CUSTOM add is a line of its own."""
    STANDARD = "STANDARD"
    CUSTOM = "CUSTOM"


@strawberry.type
class SaleOrderItem:
    id: strawberry.ID
    item_type: SaleItemType
    item_id: strawberry.ID
    mode: SaleItemMode
    name: str
    unit_price: Money
    quantity: int
    discount: Money
    line_total: Money
    note: str | None = None


@strawberry.type
class SaleOrder:
    id: strawberry.ID
    number: str = strawberry.field(description='Human-readable: O-000001, ...')
    status: SaleOrderStatus
    items: list[SaleOrderItem]
    subtotal: Money
    total: Money
    version: int = strawberry.field(description='Bumped on every change; clients may compare it to skip stale renders.')
    created_at: datetime
    updated_at: datetime
    label: str | None = None
    customer: User | None = None
    merged_into: SaleOrder | None = strawberry.field(description='Set when status is MERGED.', default=None)
    sale: Sale | None = strawberry.field(description='Set when status is CHECKED_OUT.', default=None)


@strawberry.type
class SaleOrderEdge:
    node: SaleOrder
    cursor: str


@strawberry.type
class SaleOrderConnection:
    edges: list[SaleOrderEdge]
    page_info: PageInfo


@strawberry.input
class CreateSaleOrderInput:
    label: str | None = None
    customer_id: strawberry.ID | None = None


@strawberry.input
class AddSaleOrderItemInput:
    order_id: strawberry.ID
    item_type: SaleItemType
    item_id: strawberry.ID
    quantity: int
    mode: SaleItemMode | None = SaleItemMode.STANDARD
    unit_price: Decimal | None = strawberry.field(default=None, description='CUSTOM only: overrides the catalogue price (open-price items).')
    discount: Decimal | None = strawberry.field(default=None, description='CUSTOM only: line-level discount amount.')
    note: str | None = None


@strawberry.input
class SaleOrderItemUpdate:
    item_id: strawberry.ID
    quantity: int | None = strawberry.field(default=None, description='0 removes the line.')
    discount: Decimal | None = None
    note: str | None = None


@strawberry.input
class SplitLineInput:
    item_id: strawberry.ID
    quantity: int


@strawberry.input
class CheckoutSaleOrderInput:
    order_id: strawberry.ID
    idempotency_key: str
    payment_method: PaymentMethod
    amount_tendered: Decimal | None = strawberry.field(default=None, description='Required for CASH; change is computed from it.')
    customer_id: strawberry.ID | None = None
    coupon_code: str | None = None
    redeem_points: int | None = 0


@strawberry.type
class SaleOrderPayload:
    errors: list[UserError]
    order: SaleOrder | None = None


@strawberry.type
class SplitSaleOrderPayload:
    errors: list[UserError]
    source: SaleOrder | None = None
    created: SaleOrder | None = None
