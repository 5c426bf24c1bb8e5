"""GraphQL types of the contract: pos."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from decimal import Decimal

import strawberry

from app.domain.accounts import views as accounts_views
from app.domain.catalog import views as catalog_views
from app.domain.pos import discounts, totals, views
from app.domain.pos.items import ChangedOrder
from app.domain.sales import tax
from app.domain.sales import views as sales_views
from app.domain.taxes import views as tax_views
from app.schema.accounts import User
from app.schema.catalog import Product, Service
from app.schema.common import IDEMPOTENCY_KEY, Money, Payload
from app.schema.described import DescribedEnum, described_enum
from app.schema.loaders import load, load_shown
from app.schema.pages import Connection, connection_of
from app.schema.sales import PaymentMethod, Sale, SaleItemType, TenderInput


@described_enum("Where a POS sale order stands.")
class SaleOrderStatus(DescribedEnum):
    DRAFT = "DRAFT", "Open: lines may change."
    CHECKED_OUT = "CHECKED_OUT", "Paid: it became a sale."
    MERGED = "MERGED", "Its lines moved into another order (mergedInto)."
    CANCELLED = "CANCELLED", "Given up; nothing was sold."


@described_enum("STANDARD lines merge by (itemType, itemId); every CUSTOM add is a line of its own.")
class SaleItemMode(DescribedEnum):
    STANDARD = "STANDARD", "The catalogue price; adding the same item again adds to its line."
    CUSTOM = "CUSTOM", "A line of its own, with its own price, discount and note."


async def _item_product(root: SaleOrderItem, info: strawberry.Info) -> Product | None:
    product_id = root.item_uuid if root.item_type is SaleItemType.PRODUCT else None
    return await load_shown(info, catalog_views.products_by_id, product_id, Product.from_model)


async def _item_service(root: SaleOrderItem, info: strawberry.Info) -> Service | None:
    service_id = root.item_uuid if root.item_type is SaleItemType.SERVICE else None
    return await load_shown(info, catalog_views.services_by_id, service_id, Service.from_model)


@strawberry.type(description="A line of a POS sale order.")
class SaleOrderItem:
    id: strawberry.ID = strawberry.field(description="The line's id.")
    item_type: SaleItemType = strawberry.field(description="Product or service.")
    item_id: strawberry.ID = strawberry.field(description="The id of the product or service.")
    mode: SaleItemMode = strawberry.field(description="STANDARD or CUSTOM.")
    name: str = strawberry.field(description="The item's name when added.")
    unit_price: Money = strawberry.field(
        description="The price of one: the catalogue's when added, or the CUSTOM price."
    )
    quantity: int = strawberry.field(description="Units, 1-999.")
    discount: Money = strawberry.field(description="Line-level discount (CUSTOM lines).")
    line_total: Money = strawberry.field(description="unitPrice times quantity less discount.")
    item_uuid: strawberry.Private[uuid.UUID]
    note: str | None = strawberry.field(description="Staff's note on a CUSTOM line.", default=None)
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
    if root.priced is not None:
        return Money.of(root.priced.subtotal)
    return Money.of(totals.subtotal(await _lines(root, info)))


async def _order_amounts(root: SaleOrder, info: strawberry.Info) -> tuple[Decimal, tax.Taxed]:
    """The staff discount and the tax as checkout would reckon them now, before coupon and points."""
    if root.priced is not None:
        line_totals, rates = root.priced.line_totals, root.priced.rates
    else:
        lines = await _lines(root, info)
        rates = await asyncio.gather(
            *(load(info, tax_views.item_rates, (line.item_type, line.item_id)) for line in lines)
        )
        line_totals = [totals.line_total(line) for line in lines]
    manual = discounts.effective(root.discount, sum(line_totals, Decimal(0)))
    included = info.context.db.settings.prices_include_tax
    return manual, tax.taxed(line_totals, rates, manual, included=included)


async def _order_manual_discount(root: SaleOrder, info: strawberry.Info) -> Money:
    return Money.of((await _order_amounts(root, info))[0])


async def _order_tax(root: SaleOrder, info: strawberry.Info) -> Money:
    return Money.of((await _order_amounts(root, info))[1].tax)


async def _order_total(root: SaleOrder, info: strawberry.Info) -> Money:
    return Money.of((await _order_amounts(root, info))[1].total)


async def _order_customer(root: SaleOrder, info: strawberry.Info) -> User | None:
    return await load_shown(info, accounts_views.users_by_id, root.customer_id, User.from_model)


async def _order_merged_into(root: SaleOrder, info: strawberry.Info) -> SaleOrder | None:
    return await load_shown(info, views.orders_by_id, root.merged_into_id, SaleOrder.from_model)


async def _order_sale(root: SaleOrder, info: strawberry.Info) -> Sale | None:
    return await load_shown(info, sales_views.sales_by_id, root.sale_id, Sale.from_model)


@strawberry.type(description="An order being rung up at the counter; it becomes a sale at checkout.")
class SaleOrder:
    id: strawberry.ID = strawberry.field(description="The order's id.")
    number: str = strawberry.field(description="Human-readable: O-000001, ...")
    status: SaleOrderStatus = strawberry.field(description="Where the order stands; only DRAFT changes.")
    items: list[SaleOrderItem] = strawberry.field(
        resolver=_order_items, description="Its lines, oldest first."
    )
    subtotal: Money = strawberry.field(
        resolver=_order_subtotal, description="unitPrice times quantity over the lines, before discounts."
    )
    total: Money = strawberry.field(
        resolver=_order_total,
        description="The lines' totals less the staff discount, plus tax when prices exclude it: what "
        "checkout charges before coupon and points.",
    )
    manual_discount: Money = strawberry.field(
        resolver=_order_manual_discount,
        description="Staff discount on the whole order (setSaleOrderDiscount), as it applies to the lines "
        "now.",
    )
    tax: Money = strawberry.field(
        resolver=_order_tax, description="Tax as it would apply at checkout before coupon and points."
    )
    discount_reason: str | None = strawberry.field(
        description="Why the staff discount was given, if there is one.", default=None
    )
    version: int = strawberry.field(
        description="Bumped on every change; clients may compare it to skip stale renders."
    )
    created_at: datetime = strawberry.field(description="When it was opened.")
    updated_at: datetime = strawberry.field(description="When it last changed.")
    label: str | None = strawberry.field(
        description='Staff\'s name for it ("Table 4"), if any.', default=None
    )
    customer: User | None = strawberry.field(
        resolver=_order_customer, description="The customer it is for, if known: they earn the points."
    )
    merged_into: SaleOrder | None = strawberry.field(
        description="Set when status is MERGED.", resolver=_order_merged_into
    )
    sale: Sale | None = strawberry.field(description="Set when status is CHECKED_OUT.", resolver=_order_sale)
    order_id: strawberry.Private[uuid.UUID]
    customer_id: strawberry.Private[uuid.UUID | None]
    merged_into_id: strawberry.Private[uuid.UUID | None]
    sale_id: strawberry.Private[uuid.UUID | None]
    discount: strawberry.Private[discounts.GivenDiscount]
    # Lines read together with the order (one snapshot), or None to load them on demand.
    lines: strawberry.Private[list | None] = None
    # The lines' amounts and rates as the change that returned the order read them (an add), or None
    # to read the lines.
    priced: strawberry.Private[ChangedOrder | None] = None

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
            discount=discounts.GivenDiscount.of(order),
            discount_reason=order.discount_reason,
            lines=lines,
            priced=order if isinstance(order, ChangedOrder) else None,
        )


@connection_of(SaleOrder, "order", "orders", kind="sale", order="newest first")
class SaleOrderConnection(Connection): ...


@strawberry.input(description="A new, empty sale order.")
class CreateSaleOrderInput:
    label: str | None = strawberry.field(
        description="Staff's name for it, at most 100 characters.", default=None
    )
    customer_id: strawberry.ID | None = strawberry.field(
        description="A CUSTOMER account the order is for, if known.", default=None
    )


@strawberry.input(description="A line to add to a DRAFT order.")
class AddSaleOrderItemInput:
    order_id: strawberry.ID = strawberry.field(description="The DRAFT order.")
    item_type: SaleItemType = strawberry.field(description="Product or service.")
    item_id: strawberry.ID | None = strawberry.field(
        default=None, description="The active product or service to add (or, for a product, send sku)."
    )
    quantity: int = strawberry.field(description="Units, 1-999.")
    mode: SaleItemMode | None = strawberry.field(
        description="STANDARD (default) or CUSTOM.", default=SaleItemMode.STANDARD
    )
    unit_price: Decimal | None = strawberry.field(
        default=None, description="CUSTOM only: overrides the catalogue price (open-price items)."
    )
    discount: Decimal | None = strawberry.field(
        default=None, description="CUSTOM only: line-level discount amount."
    )
    note: str | None = strawberry.field(description="CUSTOM only: at most 500 characters.", default=None)
    sku: str | None = strawberry.field(
        default=None,
        description="Instead of itemId, for a PRODUCT: its SKU (the barcode) as scanned, in any letter case, "
        "so a scan adds in one round trip.",
    )


@strawberry.input(description="A change to one line of a DRAFT order; omitted fields stay as they are.")
class SaleOrderItemUpdate:
    item_id: strawberry.ID = strawberry.field(description="The line's id (SaleOrderItem.id), not its itemId.")
    quantity: int | None = strawberry.field(default=None, description="0 removes the line.")
    discount: Decimal | None = strawberry.field(
        description="CUSTOM only: line-level discount amount.", default=None
    )
    note: str | None = strawberry.field(description="CUSTOM only: at most 500 characters.", default=None)


@strawberry.input(description="Units of one line to move to the new order.")
class SplitLineInput:
    item_id: strawberry.ID = strawberry.field(description="The line's id (SaleOrderItem.id), not its itemId.")
    quantity: int = strawberry.field(description="Units to move, 1 up to the line's quantity.")


@strawberry.input(description="Paying for a DRAFT order at the counter.")
class CheckoutSaleOrderInput:
    order_id: strawberry.ID = strawberry.field(description="The DRAFT order.")
    idempotency_key: str = strawberry.field(description=IDEMPOTENCY_KEY)
    payment_method: PaymentMethod | None = strawberry.field(
        default=None,
        description="Single payment, CASH or CARD. Give either paymentMethod (+ amountTendered for CASH) "
        "or tenders.",
    )
    amount_tendered: Decimal | None = strawberry.field(
        default=None,
        description="Required with paymentMethod CASH, refused otherwise; change is computed from it.",
    )
    customer_id: strawberry.ID | None = strawberry.field(
        description="The CUSTOMER who earns the points; default: the order's customer.", default=None
    )
    coupon_code: str | None = strawberry.field(
        description="A coupon to apply, any letter case.", default=None
    )
    redeem_points: int | None = strawberry.field(
        description="The customer's loyalty points to spend, 0 or more: 100 points take 1.00 off.", default=0
    )
    tenders: list[TenderInput] | None = strawberry.field(
        default=None,
        description="Split payment, 1-10 tenders: non-cash tenders may not exceed the amount due; "
        "cash over the rest is change.",
    )
    register: str | None = strawberry.field(
        default=None,
        description="The register whose OPEN shift the sale is rung up in; required when any tender is CASH. "
        "Named for a card payment too, its shift must be OPEN (SHIFT_NOT_OPEN otherwise).",
    )
    expected_version: int | None = strawberry.field(
        default=None,
        description="The order's version the cashier saw and is taking payment for: if another tablet "
        "has changed the order since, nothing is paid (ORDER_CHANGED). Not part of the request an "
        "idempotency key stands for: a repeat returns the first sale whatever this says.",
    )


@strawberry.type(description="The outcome of a change to a sale order.")
class SaleOrderPayload(Payload):
    order: SaleOrder | None = strawberry.field(
        description="The order after this change, with this change's version. Its lines are read once "
        "the change has committed (an add's come with the add), so with other tablets at work they may "
        "already show a later change too; saleOrderUpdated brings that version.",
        default=None,
    )


@strawberry.type(description="The outcome of a split.")
class SplitSaleOrderPayload(Payload):
    source: SaleOrder | None = strawberry.field(description="The order split, as it now is.", default=None)
    created: SaleOrder | None = strawberry.field(
        description="The new DRAFT order with the lines moved.", default=None
    )
