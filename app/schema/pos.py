"""GraphQL types of the contract: pos."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from app.domain.accounts import views as accounts_views
from app.domain.catalog import views as catalog_views
from app.domain.pos import totals, views
from app.domain.sales import views as sales_views
from app.schema.accounts import User
from app.schema.catalog import Product, Service
from app.schema.common import Money, PageInfo, UserError
from app.schema.loaders import load
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


async def _item_product(root: SaleOrderItem, info: strawberry.Info) -> Product | None:
    if root.item_type is not SaleItemType.PRODUCT:
        return None
    product = await load(info, catalog_views.products_by_id, root.item_uuid)
    return Product.from_model(product) if product else None


async def _item_service(root: SaleOrderItem, info: strawberry.Info) -> Service | None:
    if root.item_type is not SaleItemType.SERVICE:
        return None
    service = await load(info, catalog_views.services_by_id, root.item_uuid)
    return Service.from_model(service) if service else None


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
    item_uuid: strawberry.Private[uuid.UUID]
    note: str | None = None
    product: Product | None = strawberry.field(
        description="The catalogue item, when itemType is PRODUCT.", resolver=_item_product
    )
    service: Service | None = strawberry.field(
        description="The catalogue item, when itemType is SERVICE.", resolver=_item_service
    )

    @classmethod
    def from_model(cls, line) -> SaleOrderItem:
        return cls(
            id=strawberry.ID(str(line.id)),
            item_type=SaleItemType(line.item_type),
            item_id=strawberry.ID(str(line.item_id)),
            mode=SaleItemMode(line.mode),
            name=line.name,
            unit_price=Money.of(line.unit_price),
            quantity=line.quantity,
            discount=Money.of(line.discount),
            line_total=Money.of(totals.line_total(line)),
            item_uuid=line.item_id,
            note=line.note,
        )


async def _lines(root: SaleOrder, info: strawberry.Info) -> list:
    """The order's lines: those read with the order when it came with them (a
    subscription event), else through the per-request loader."""
    if root.lines is not None:
        return root.lines
    return await load(info, views.items_by_order, root.order_id, default=[])


async def _order_items(root: SaleOrder, info: strawberry.Info) -> list[SaleOrderItem]:
    return [SaleOrderItem.from_model(line) for line in await _lines(root, info)]


async def _order_subtotal(root: SaleOrder, info: strawberry.Info) -> Money:
    return Money.of(totals.subtotal(await _lines(root, info)))


async def _order_total(root: SaleOrder, info: strawberry.Info) -> Money:
    return Money.of(totals.total(await _lines(root, info)))


async def _order_customer(root: SaleOrder, info: strawberry.Info) -> User | None:
    if root.customer_id is None:
        return None
    user = await load(info, accounts_views.users_by_id, root.customer_id)
    return User.from_model(user) if user else None


async def _order_merged_into(root: SaleOrder, info: strawberry.Info) -> SaleOrder | None:
    if root.merged_into_id is None:
        return None
    order = await load(info, views.orders_by_id, root.merged_into_id)
    return SaleOrder.from_model(order) if order else None


async def _order_sale(root: SaleOrder, info: strawberry.Info) -> Sale | None:
    if root.sale_id is None:
        return None
    sale = await load(info, sales_views.sales_by_id, root.sale_id)
    return Sale.from_model(sale) if sale else None


@strawberry.type
class SaleOrder:
    id: strawberry.ID
    number: str = strawberry.field(description="Human-readable: O-000001, ...")
    status: SaleOrderStatus
    items: list[SaleOrderItem] = strawberry.field(resolver=_order_items)
    subtotal: Money = strawberry.field(resolver=_order_subtotal)
    total: Money = strawberry.field(resolver=_order_total)
    version: int = strawberry.field(
        description="Bumped on every change; clients may compare it to skip stale renders."
    )
    created_at: datetime
    updated_at: datetime
    label: str | None = None
    customer: User | None = strawberry.field(resolver=_order_customer)
    merged_into: SaleOrder | None = strawberry.field(
        description="Set when status is MERGED.", resolver=_order_merged_into
    )
    sale: Sale | None = strawberry.field(description="Set when status is CHECKED_OUT.", resolver=_order_sale)
    order_id: strawberry.Private[uuid.UUID]
    customer_id: strawberry.Private[uuid.UUID | None]
    merged_into_id: strawberry.Private[uuid.UUID | None]
    sale_id: strawberry.Private[uuid.UUID | None]
    # Lines read together with the order (one snapshot), or None to load them on demand.
    lines: strawberry.Private[list | None] = None

    @classmethod
    def from_model(cls, order, lines: list | None = None) -> SaleOrder:
        return cls(
            id=strawberry.ID(str(order.id)),
            number=order.number,
            status=SaleOrderStatus(order.status),
            version=order.version,
            created_at=order.created_at,
            updated_at=order.updated_at,
            label=order.label,
            order_id=order.id,
            customer_id=order.customer_id,
            merged_into_id=order.merged_into_id,
            sale_id=order.sale_id,
            lines=lines,
        )


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
    unit_price: Decimal | None = strawberry.field(
        default=None, description="CUSTOM only: overrides the catalogue price (open-price items)."
    )
    discount: Decimal | None = strawberry.field(
        default=None, description="CUSTOM only: line-level discount amount."
    )
    note: str | None = None


@strawberry.input
class SaleOrderItemUpdate:
    item_id: strawberry.ID
    quantity: int | None = strawberry.field(default=None, description="0 removes the line.")
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
    amount_tendered: Decimal | None = strawberry.field(
        default=None, description="Required for CASH; change is computed from it."
    )
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
