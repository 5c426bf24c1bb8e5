"""Resolvers of pos: auth check, input -> domain call -> payload."""
from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from app.resolvers.base import not_implemented
from app.schema.pos import AddSaleOrderItemInput, CheckoutSaleOrderInput, CreateSaleOrderInput, SaleOrder, SaleOrderConnection, SaleOrderItemUpdate, SaleOrderPayload, SaleOrderStatus, SplitLineInput, SplitSaleOrderPayload
from app.schema.sales import CheckoutPayload


async def sale_order(info: Info, id: strawberry.ID) -> SaleOrder | None:
    raise not_implemented("saleOrder")


async def sale_orders(info: Info, status: SaleOrderStatus | None = None, first: int | None = 20, after: str | None = None) -> SaleOrderConnection:
    raise not_implemented("saleOrders")


async def create_sale_order(info: Info, input: CreateSaleOrderInput) -> SaleOrderPayload:
    raise not_implemented("createSaleOrder")


async def add_sale_order_item(info: Info, input: AddSaleOrderItemInput) -> SaleOrderPayload:
    raise not_implemented("addSaleOrderItem")


async def update_sale_order_items(info: Info, order_id: strawberry.ID, items: list[SaleOrderItemUpdate]) -> SaleOrderPayload:
    raise not_implemented("updateSaleOrderItems")


async def remove_sale_order_item(info: Info, order_id: strawberry.ID, item_id: strawberry.ID) -> SaleOrderPayload:
    raise not_implemented("removeSaleOrderItem")


async def clear_sale_order_items(info: Info, order_id: strawberry.ID) -> SaleOrderPayload:
    raise not_implemented("clearSaleOrderItems")


async def cancel_sale_order(info: Info, order_id: strawberry.ID) -> SaleOrderPayload:
    raise not_implemented("cancelSaleOrder")


async def merge_sale_orders(info: Info, target_order_id: strawberry.ID, source_order_ids: list[strawberry.ID]) -> SaleOrderPayload:
    raise not_implemented("mergeSaleOrders")


async def split_sale_order(info: Info, order_id: strawberry.ID, items: list[SplitLineInput]) -> SplitSaleOrderPayload:
    raise not_implemented("splitSaleOrder")


async def checkout_sale_order(info: Info, input: CheckoutSaleOrderInput) -> CheckoutPayload:
    raise not_implemented("checkoutSaleOrder")


async def sale_order_updated(info: Info, order_id: strawberry.ID) -> AsyncGenerator[SaleOrder, None]:
    """Every committed change to the order, from any server process (STAFF, ADMIN)."""
    raise not_implemented("saleOrderUpdated")
    yield  # pragma: no cover


@strawberry.type
class PosQuery:
    sale_order = strawberry.field(resolver=sale_order)
    sale_orders = strawberry.field(resolver=sale_orders)


@strawberry.type
class PosMutation:
    create_sale_order = strawberry.mutation(resolver=create_sale_order)
    add_sale_order_item = strawberry.mutation(resolver=add_sale_order_item)
    update_sale_order_items = strawberry.mutation(resolver=update_sale_order_items)
    remove_sale_order_item = strawberry.mutation(resolver=remove_sale_order_item)
    clear_sale_order_items = strawberry.mutation(resolver=clear_sale_order_items)
    cancel_sale_order = strawberry.mutation(resolver=cancel_sale_order)
    merge_sale_orders = strawberry.mutation(resolver=merge_sale_orders)
    split_sale_order = strawberry.mutation(resolver=split_sale_order)
    checkout_sale_order = strawberry.mutation(resolver=checkout_sale_order)


@strawberry.type(name="Subscription")
class PosSubscription:
    sale_order_updated = strawberry.subscription(resolver=sale_order_updated)
