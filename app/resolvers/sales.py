"""Resolvers of sales: auth check, input -> domain call -> payload."""
from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from app.resolvers.base import not_implemented
from app.schema.sales import Cart, CartPayload, CheckoutInput, CheckoutPayload, RefundInput, RefundPayload, Sale, SaleChannel, SaleConnection


async def my_cart(info: Info) -> Cart | None:
    raise not_implemented("myCart")


async def my_sales(info: Info, first: int | None = 20, after: str | None = None) -> SaleConnection:
    raise not_implemented("mySales")


async def sale(info: Info, id: strawberry.ID) -> Sale | None:
    raise not_implemented("sale")


async def sales(info: Info, channel: SaleChannel | None = None, first: int | None = 20, after: str | None = None) -> SaleConnection:
    raise not_implemented("sales")


async def add_to_cart(info: Info, product_id: strawberry.ID, quantity: int) -> CartPayload:
    raise not_implemented("addToCart")


async def update_cart_item(info: Info, product_id: strawberry.ID, quantity: int) -> CartPayload:
    """quantity 0 removes the line."""
    raise not_implemented("updateCartItem")


async def apply_coupon(info: Info, code: str) -> CartPayload:
    raise not_implemented("applyCoupon")


async def remove_coupon(info: Info) -> CartPayload:
    raise not_implemented("removeCoupon")


async def checkout(info: Info, input: CheckoutInput) -> CheckoutPayload:
    raise not_implemented("checkout")


async def refund_sale(info: Info, input: RefundInput) -> RefundPayload:
    raise not_implemented("refundSale")


@strawberry.type
class SalesQuery:
    my_cart = strawberry.field(resolver=my_cart)
    my_sales = strawberry.field(resolver=my_sales)
    sale = strawberry.field(resolver=sale)
    sales = strawberry.field(resolver=sales)


@strawberry.type
class SalesMutation:
    add_to_cart = strawberry.mutation(resolver=add_to_cart)
    update_cart_item = strawberry.mutation(resolver=update_cart_item)
    apply_coupon = strawberry.mutation(resolver=apply_coupon)
    remove_coupon = strawberry.mutation(resolver=remove_coupon)
    checkout = strawberry.mutation(resolver=checkout)
    refund_sale = strawberry.mutation(resolver=refund_sale)
