"""Resolvers of the cart, checkout, refunds and sales: auth check, input -> domain call -> payload."""
from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from app.domain.uow import UnitOfWork
from app.domain.catalog import views as catalog_views
from app.domain.coupons.service import coupon_id_for_code
from app.domain.errors import DomainError, not_found, validation
from app.domain.sales import cart as carts
from app.domain.sales import checkout as checkouts
from app.domain.sales import idempotency, refunds, views
from app.resolvers.base import ctx, parse_id, query_error, require_role, require_staff, require_user, run_mutation, user_errors
from app.schema.common import PageInfo
from app.schema.sales import (
    Cart, CartPayload, CheckoutInput, CheckoutPayload, Refund, RefundInput, RefundPayload, Sale, SaleChannel,
    SaleConnection, SaleEdge,
)


def _connection(page) -> SaleConnection:
    return SaleConnection(edges=[SaleEdge(node=Sale.from_model(s), cursor=c) for s, c in zip(page.rows, page.cursors)],
                          page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=page.end_cursor))


async def _cart(sessions, customer_id: uuid.UUID) -> Cart | None:
    async with sessions() as session:
        view = await views.cart_view(session, customer_id)
    return Cart.from_view(view) if view else None


async def my_cart(info: Info) -> Cart | None:
    return await _cart(ctx(info).db.read, require_role(info, "CUSTOMER").id)


async def my_sales(info: Info, first: int | None = 20, after: str | None = None) -> SaleConnection:
    user = require_user(info)
    try:
        async with ctx(info).db.read() as session:
            return _connection(await views.sales_page(session, customer_id=user.id, first=first, after=after))
    except DomainError as error:
        raise query_error(error)


async def sale(info: Info, id: strawberry.ID) -> Sale | None:
    """The customer's own sale, or any for staff; someone else's is simply not there."""
    user = require_user(info)
    try:
        sale_id = parse_id(id)
    except DomainError:
        return None
    async with ctx(info).db.read() as session:
        found = (await views.sales_by_id(session, [sale_id])).get(sale_id)
    if found is None or (user.role == "CUSTOMER" and found.customer_id != user.id):
        return None
    return Sale.from_model(found)


async def sales(info: Info, channel: SaleChannel | None = None, first: int | None = 20,
                after: str | None = None) -> SaleConnection:
    require_staff(info)
    try:
        async with ctx(info).db.read() as session:
            return _connection(await views.sales_page(session, channel=channel.value if channel else None,
                                                      first=first, after=after))
    except DomainError as error:
        raise query_error(error)


async def _cart_change(info: Info, change) -> CartPayload:
    """Run `change(uow, cart_id)` on the caller's cart (made on first use, in its own short unit
    before any lock), then show the cart as it now is on the primary (a replica may lag)."""
    customer = require_role(info, "CUSTOMER")

    def work(uow: UnitOfWork):
        return carts.change_cart(uow, customer_id=customer.id, change=change)
    try:
        if not await run_mutation(info, work):
            await run_mutation(info, lambda uow: carts.ensure_cart(uow, customer_id=customer.id))
            await run_mutation(info, work)
    except DomainError as error:
        return CartPayload(errors=user_errors(error))
    return CartPayload(cart=await _cart(ctx(info).db.sessions, customer.id), errors=[])


async def _sellable_product(info: Info, product_id: strawberry.ID) -> uuid.UUID:
    pid = parse_id(product_id, "productId")
    async with ctx(info).db.read() as session:
        product = (await catalog_views.products_by_id(session, [pid])).get(pid)
    if product is None or not product.active:
        raise not_found("Product", "productId")
    return pid


async def add_to_cart(info: Info, product_id: strawberry.ID, quantity: int) -> CartPayload:
    require_role(info, "CUSTOMER")
    try:
        carts.check_quantity(quantity)
        pid = await _sellable_product(info, product_id)
    except DomainError as error:
        return CartPayload(errors=user_errors(error))
    return await _cart_change(info, lambda uow, cart_id: carts.add_to_cart(
        uow, cart_id=cart_id, product_id=pid, quantity=quantity))


async def update_cart_item(info: Info, product_id: strawberry.ID, quantity: int) -> CartPayload:
    """quantity 0 removes the line."""
    require_role(info, "CUSTOMER")
    try:
        carts.check_quantity(quantity, allow_zero=True)
        pid = parse_id(product_id, "productId") if quantity == 0 else await _sellable_product(info, product_id)
    except DomainError as error:
        return CartPayload(errors=user_errors(error))
    return await _cart_change(info, lambda uow, cart_id: carts.set_cart_item(
        uow, cart_id=cart_id, product_id=pid, quantity=quantity))


async def apply_coupon(info: Info, code: str) -> CartPayload:
    require_role(info, "CUSTOMER")
    try:
        async with ctx(info).db.read() as session:
            coupon_id = await coupon_id_for_code(session, code)
    except DomainError as error:
        return CartPayload(errors=user_errors(error))
    return await _cart_change(info, lambda uow, cart_id: carts.apply_coupon(uow, cart_id=cart_id, coupon_id=coupon_id))


async def remove_coupon(info: Info) -> CartPayload:
    return await _cart_change(info, lambda uow, cart_id: carts.remove_coupon(uow, cart_id=cart_id))


async def checkout(info: Info, input: CheckoutInput) -> CheckoutPayload:
    customer = require_role(info, "CUSTOMER")
    try:
        key = idempotency.check_key(input.idempotency_key)
        redeem = input.redeem_points or 0
        if redeem < 0:
            raise validation("Points to redeem cannot be negative", "redeemPoints")
        fingerprint = idempotency.fingerprint({"redeemPoints": redeem})
        sale, replayed = await run_mutation(info, lambda uow: checkouts.checkout(
            uow, customer_id=customer.id, key=key, fingerprint=fingerprint, redeem_points=redeem))
    except DomainError as error:
        return CheckoutPayload(replayed=False, errors=user_errors(error))
    return CheckoutPayload(sale=Sale.from_model(sale), replayed=replayed, errors=[])


async def refund_sale(info: Info, input: RefundInput) -> RefundPayload:
    staff = require_staff(info)
    try:
        lines = None if input.lines is None else [(line.sale_line_id, line.quantity) for line in input.lines]
        request = refunds.prepare_refund(sale_id=parse_id(input.sale_id, "saleId"), lines=lines,
                                         reason=input.reason, key=input.idempotency_key)

        async def work(uow: UnitOfWork):
            return await refunds.refund_sale(uow, request=request, by=staff.id)
        refund, replayed = await run_mutation(info, work)
    except DomainError as error:
        return RefundPayload(replayed=False, errors=user_errors(error))
    return RefundPayload(refund=Refund.from_model(refund), replayed=replayed, errors=[])


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
