"""Resolvers of POS sale orders: input -> domain call -> payload."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
from decimal import Decimal
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from app.domain.errors import NAMES_A_ROW, Code
from app.domain.fields import Checks, parse_id
from app.domain.pos import checkout as pos_checkout
from app.domain.pos import discounts, live, merge, orders, split, views
from app.domain.pos import items as order_lines
from app.domain.pos.live import OrderFeed
from app.domain.pos.models import SaleOrder as SaleOrderModel
from app.domain.uow import UnitOfWork
from app.resolvers.base import StaffOnly, caller, ctx, doc, mutation, query, run_mutation
from app.resolvers.inputs import plain, values
from app.resolvers.reads import Only, lookup, paged, read
from app.resolvers.sales import SALE_RECORDING
from app.schema import loaders
from app.schema.pos import (
    AddSaleOrderItemInput,
    CheckoutSaleOrderInput,
    CreateSaleOrderInput,
    SaleOrder,
    SaleOrderConnection,
    SaleOrderItemUpdate,
    SaleOrderPayload,
    SaleOrderStatus,
    SplitLineInput,
    SplitSaleOrderPayload,
)
from app.schema.sales import CheckoutPayload, Sale

# The argument that names the order of every change to one DRAFT order.
DraftOrder = Annotated[strawberry.ID, strawberry.argument(description="The DRAFT order.")]


sale_order = lookup(
    SaleOrder, views.orders_by_id, "The order's id.", doc="A POS order by id, or null (STAFF, ADMIN)."
)


sale_orders = paged(
    SaleOrderConnection,
    views.orders_page,
    doc="POS orders, newest first (STAFF, ADMIN).",
    status=Only(SaleOrderStatus, "Only orders in this status."),
)


async def _order_payload(
    info: Info, work: Callable[[UnitOfWork], Awaitable[SaleOrderModel]]
) -> SaleOrderPayload:
    """Run one unit of work on an order and answer the order as it left it."""
    order = await run_mutation(info, work)
    return SaleOrderPayload(order=SaleOrder.from_model(order), errors=[])


async def create_sale_order(
    info: Info, input: Annotated[CreateSaleOrderInput, strawberry.argument(description="The new order.")]
) -> SaleOrderPayload:
    """Open an empty DRAFT order at the counter."""
    new = await read(info, orders.prepare_order, **values(input))
    return await _order_payload(info, lambda uow: orders.create_order(uow, new, by=caller(info).id))


async def add_sale_order_item(
    info: Info, input: Annotated[AddSaleOrderItemInput, strawberry.argument(description="The line to add.")]
) -> SaleOrderPayload:
    """Add a product or service to a DRAFT order; a STANDARD add merges into the item's line."""
    item_id: str | None = input.item_id
    sku = order_lines.scanned_sku(item_type=input.item_type.value, item_id=item_id, sku=input.sku)
    if sku is not None:
        item_id = await read(info, order_lines.product_id_by_sku, sku)  # before the add: no lock held
    line = order_lines.check_line(
        order_id=input.order_id,
        item_type=input.item_type.value,
        item_id=item_id or "",
        quantity=input.quantity,
        mode=(input.mode.value if input.mode else "STANDARD"),
        unit_price=input.unit_price,
        discount=input.discount,
        note=input.note,
    )
    order = await order_lines.add(line, lambda work: run_mutation(info, work))
    # Its version, amounts and lines all come from the add's own statement: one state of the order.
    return SaleOrderPayload(order=SaleOrder.from_model(order, lines=order.lines), errors=[])


async def update_sale_order_items(
    info: Info,
    order_id: DraftOrder,
    items: Annotated[
        list[SaleOrderItemUpdate], strawberry.argument(description="One change per line, each line once.")
    ],
    expected_version: Annotated[
        int | None,
        strawberry.argument(
            description="The order's version the tablet showed: if another tablet has changed the order "
            "since, nothing changes (ORDER_CHANGED), so quantities set from what it showed never write "
            "over a change it did not see."
        ),
    ] = None,
) -> SaleOrderPayload:
    """Change the quantity, discount or note of several lines of a DRAFT order at once."""
    check = Checks()
    order = check(lambda: parse_id(order_id, "orderId", "Sale order"))
    prepared = check(
        lambda: order_lines.prepare_updates([(u.item_id, u.quantity, u.discount, u.note) for u in items])
    )
    expected = check(lambda: orders.expected_version(expected_version))
    check.done()
    return await _order_payload(
        info, lambda uow: order_lines.update_items(uow, order_id=order, updates=prepared, expected=expected)
    )


async def remove_sale_order_item(
    info: Info,
    order_id: DraftOrder,
    item_id: Annotated[
        strawberry.ID, strawberry.argument(description="The line's id (SaleOrderItem.id), not its itemId.")
    ],
) -> SaleOrderPayload:
    """Take one line off a DRAFT order."""
    order, line = parse_id(order_id, "orderId", "Sale order"), parse_id(item_id, "itemId", "Order line")
    return await _order_payload(info, lambda uow: order_lines.remove_item(uow, order_id=order, line_id=line))


async def clear_sale_order_items(info: Info, order_id: DraftOrder) -> SaleOrderPayload:
    """Take every line off a DRAFT order; the order stays open."""
    order = parse_id(order_id, "orderId", "Sale order")
    return await _order_payload(info, lambda uow: order_lines.clear_items(uow, order_id=order))


async def cancel_sale_order(info: Info, order_id: DraftOrder) -> SaleOrderPayload:
    """Cancel a DRAFT order: it is CANCELLED and can no longer change."""
    order = parse_id(order_id, "orderId", "Sale order")
    return await _order_payload(info, lambda uow: orders.cancel_order(uow, order_id=order))


async def merge_sale_orders(
    info: Info,
    target_order_id: Annotated[
        strawberry.ID, strawberry.argument(description="The DRAFT order that takes the lines.")
    ],
    source_order_ids: Annotated[
        list[strawberry.ID],
        strawberry.argument(description="DRAFT orders whose lines move; they become MERGED. Each once."),
    ],
) -> SaleOrderPayload:
    """Move every line of the source orders into the target: STANDARD lines merge into the target's
    line of the same item, at the price that line keeps (else the earliest source line's), CUSTOM
    lines move as they are. The target keeps its staff discount; the sources' lapse."""
    target, sources = merge.prepare_merge(target_order_id, source_order_ids)
    return await _order_payload(
        info, lambda uow: merge.merge_orders(uow, target_id=target, source_ids=sources)
    )


async def split_sale_order(
    info: Info,
    order_id: Annotated[strawberry.ID, strawberry.argument(description="The DRAFT order to split.")],
    items: Annotated[
        list[SplitLineInput], strawberry.argument(description="The lines, and how many of each, to move.")
    ],
) -> SplitSaleOrderPayload:
    """Move some lines (or part of their quantity) of a DRAFT order into a new DRAFT order."""
    order, lines = split.prepare_split(order_id, [(line.item_id, line.quantity) for line in items])
    source, created = await run_mutation(
        info, lambda uow: split.split_order(uow, order_id=order, lines=lines, by=caller(info).id)
    )
    return SplitSaleOrderPayload(
        source=SaleOrder.from_model(source), created=SaleOrder.from_model(created), errors=[]
    )


async def checkout_sale_order(
    info: Info, input: Annotated[CheckoutSaleOrderInput, strawberry.argument(description="How it is paid.")]
) -> CheckoutPayload:
    """Pay for a DRAFT order: its lines become a sale through the shared sale-recording service."""
    request = await read(
        info,
        pos_checkout.prepare_checkout,
        order_id=input.order_id,
        key=input.idempotency_key,
        method=plain(input.payment_method),
        amount_tendered=input.amount_tendered,
        tender_list=None
        if input.tenders is None
        else [(t.method.value, t.amount, t.reference) for t in input.tenders],
        register=input.register,
        customer_id=input.customer_id,
        coupon_code=input.coupon_code,
        redeem_points=input.redeem_points,
        expected_version=input.expected_version,
    )
    sale, replayed = await run_mutation(
        info,
        lambda uow: pos_checkout.checkout_order(
            uow,
            request=request,
            by=caller(info).id,
            prices_include_tax=ctx(info).db.settings.prices_include_tax,
        ),
    )
    return CheckoutPayload(sale=Sale.from_model(sale), replayed=replayed, errors=[])


async def set_sale_order_discount(
    info: Info,
    order_id: DraftOrder,
    reason: Annotated[str, strawberry.argument(description="Why, 1-200 characters (ignored when removing).")],
    amount: Annotated[
        Decimal | None, strawberry.argument(description="An amount off the order; 0 removes the discount.")
    ] = None,
    percent: Annotated[
        Decimal | None,
        strawberry.argument(
            description="A percent of the lines' total after line discounts, at most 3 decimals; "
            "0 removes it."
        ),
    ] = None,
) -> SaleOrderPayload:
    """Give an amount or a percent of the lines' total after line discounts; STAFF up to
    PETPOS_STAFF_MAX_DISCOUNT_PERCENT of it, ADMIN up to all of it. 0 removes it."""
    discount = discounts.prepare_discount(order_id=order_id, amount=amount, percent=percent, reason=reason)
    user = caller(info)
    return await _order_payload(
        info,
        lambda uow: discounts.set_discount(
            uow,
            discount=discount,
            role=user.role,
            staff_max_percent=ctx(info).db.settings.staff_max_discount_percent,
        ),
    )


def _feed(info: Info) -> OrderFeed:
    feed = getattr(ctx(info).request.app.state, "order_feed", None)
    if feed is None:
        raise GraphQLError("Live updates are not running in this process", extensions={"code": "INTERNAL"})
    return feed


async def sale_order_updated(
    info: Info, order_id: Annotated[strawberry.ID, strawberry.argument(description="The order to follow.")]
) -> AsyncGenerator[SaleOrder, None]:
    """The order as it stands: first as it is now, then after each committed change, from any server
    process; the stream ends once the order is no longer DRAFT. A slow client gets the latest state,
    not every version in between (compare `version`). Tax and total follow the item's current rate:
    a rate changed meanwhile shows from the next event on. (STAFF, ADMIN)"""
    order = parse_id(order_id, "orderId", "Sale order")
    db = ctx(info).db
    async for found, lines in live.snapshots(_feed(info), db.read, order, read_primary=db.sessions):
        loaders.forget()  # each event reads afresh
        yield SaleOrder.from_model(found, lines)


@strawberry.type
class PosQuery:
    sale_order = query(sale_order, allow=StaffOnly)
    sale_orders = query(sale_orders, allow=StaffOnly)


# What every change to one DRAFT order (under its row lock) can answer.
ORDER_EDIT_ERRORS = (Code.VALIDATION, Code.NOT_FOUND, Code.ORDER_NOT_EDITABLE, Code.BUSY)


def order_edit(resolver, errors=ORDER_EDIT_ERRORS):
    """The declaration every change to one DRAFT order shares: staff, under the order's row lock."""
    return mutation(resolver, allow=StaffOnly, locks=("sale_orders",), errors=errors)


@strawberry.type
class PosMutation:
    create_sale_order = mutation(create_sale_order, allow=StaffOnly, errors=NAMES_A_ROW)
    add_sale_order_item = order_edit(add_sale_order_item)
    update_sale_order_items = order_edit(
        update_sale_order_items,
        (Code.VALIDATION, Code.NOT_FOUND, Code.ORDER_NOT_EDITABLE, Code.ORDER_CHANGED, Code.BUSY),
    )
    remove_sale_order_item = order_edit(remove_sale_order_item)
    clear_sale_order_items = order_edit(clear_sale_order_items)
    cancel_sale_order = order_edit(cancel_sale_order)
    merge_sale_orders = order_edit(merge_sale_orders)
    split_sale_order = order_edit(split_sale_order)
    set_sale_order_discount = order_edit(
        set_sale_order_discount, errors=(*ORDER_EDIT_ERRORS, Code.DISCOUNT_NOT_ALLOWED)
    )
    checkout_sale_order = mutation(
        checkout_sale_order,
        allow=StaffOnly,
        locks=("sale_orders", "cash_shifts", "products", "coupons", "users", "sale_numbers"),
        errors=(
            Code.VALIDATION,
            Code.NOT_FOUND,
            Code.ORDER_NOT_EDITABLE,
            Code.ORDER_CHANGED,
            *SALE_RECORDING,
            Code.PAYMENT_INSUFFICIENT,
            Code.SHIFT_NOT_OPEN,
            Code.IDEMPOTENCY_KEY_REUSED,
            Code.BUSY,
        ),
    )


@strawberry.type(
    name="Subscription",
    description="Live updates, over a WebSocket (graphql-transport-ws); one sent over HTTP is refused.",
)
class PosSubscription:
    sale_order_updated = strawberry.subscription(
        resolver=sale_order_updated, description=doc(sale_order_updated), permission_classes=[StaffOnly]
    )
