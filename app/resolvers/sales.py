"""Resolvers of the cart, checkout, refunds and sales: input -> domain call -> payload."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.domain.coupons.service import coupon_id_for_code
from app.domain.errors import NAMES_A_ROW, Code
from app.domain.sales import cart as carts
from app.domain.sales import checkout as checkouts
from app.domain.sales import refunds, views
from app.domain.sales.models import Sale as SaleModel
from app.resolvers.base import CustomerOnly, SignedIn, StaffOnly, caller, ctx, mutation, query, run_mutation
from app.resolvers.inputs import plain
from app.resolvers.reads import Only, by_id, lookup, paged, read
from app.schema.common import After, First
from app.schema.receipts import Receipt, receipt_of
from app.schema.sales import (
    Cart,
    CartPayload,
    CheckoutInput,
    CheckoutPayload,
    Refund,
    RefundInput,
    RefundPayload,
    Sale,
    SaleChannel,
    SaleConnection,
)

# The codes a coupon check can end with (applying it to a cart, or at checkout).
COUPON = (
    Code.COUPON_INVALID,
    Code.COUPON_EXPIRED,
    Code.COUPON_USAGE_LIMIT_REACHED,
    Code.COUPON_MINIMUM_NOT_MET,
)
# What recording a sale can refuse: the step both checkouts (online, POS) end with.
SALE_RECORDING = (Code.NOTHING_TO_CHECK_OUT, Code.INSUFFICIENT_STOCK, *COUPON, Code.INSUFFICIENT_POINTS)

# The argument `addToCart` and `updateCartItem` share.
CartProduct = Annotated[strawberry.ID, strawberry.argument(description="The product of the line.")]


async def _cart(info: Info, sessions, customer_id: uuid.UUID) -> Cart | None:
    async with sessions() as session:
        view = await views.cart_view(
            session, customer_id, prices_include_tax=ctx(info).db.settings.prices_include_tax
        )
    return Cart.from_view(view) if view else None


async def my_cart(info: Info) -> Cart | None:
    """The caller's cart; null until an item or coupon goes in (CUSTOMER)."""
    return await _cart(info, ctx(info).db.read, caller(info).id)


async def my_sales(info: Info, first: First = 20, after: After = None) -> SaleConnection:
    """The caller's own sales, newest first."""
    page = await read(info, views.sales_page, customer_id=caller(info).id, first=first, after=after)
    return SaleConnection.of(page)


def _visible(info: Info, sale: SaleModel) -> bool:
    """A customer sees their own sales, staff any."""
    user = caller(info)
    return user.role != "CUSTOMER" or sale.customer_id == user.id


sale = lookup(
    Sale,
    views.sales_by_id,
    "The sale's id.",
    doc="The customer's own sale, or any for staff; someone else's is simply not there.",
    visible=_visible,
)


async def sale_by_number(
    info: Info,
    number: Annotated[str, strawberry.argument(description="The number on the receipt: S-000004.")],
) -> Sale | None:
    """The sale a receipt names, typed or scanned in any letter case (a refund at the counter starts
    here): a customer's own, or any for staff; someone else's is simply not there."""
    found = await read(info, views.sale_by_number, number)
    return Sale.from_model(found) if found and _visible(info, found) else None


async def receipt(
    info: Info, sale_id: Annotated[strawberry.ID, strawberry.argument(description="The sale's id.")]
) -> Receipt | None:
    """A customer gets their own sales' receipts; staff any. Someone else's is simply not there."""
    found = await by_id(info, sale_id, views.sales_by_id)
    return await receipt_of(info, found) if found and _visible(info, found) else None


sales = paged(
    SaleConnection,
    views.sales_page,
    doc="Every sale, newest first (STAFF, ADMIN).",
    channel=Only(SaleChannel, "Only online or only POS sales."),
    customer_id=Only(strawberry.ID, "Only this customer's sales (a customer found with `customers`)."),
)


async def _cart_change(info: Info, change, *, makes_cart: bool = True) -> CartPayload:
    """Run `change(uow, cart_id)` on the caller's cart, then show the cart as it now is on the
    primary (a replica may lag)."""
    customer = caller(info)
    await carts.change_cart_of(
        lambda work: run_mutation(info, work), customer_id=customer.id, change=change, makes_cart=makes_cart
    )
    return CartPayload(cart=await _cart(info, ctx(info).db.sessions, customer.id), errors=[])


async def add_to_cart(
    info: Info,
    product_id: CartProduct,
    quantity: Annotated[int, strawberry.argument(description="Units to add, 1-999.")],
) -> CartPayload:
    """Put units of an active product in the caller's cart (added to its line, if any); stock is
    checked at checkout."""
    pid = await read(info, carts.prepare_product, product_id=product_id, quantity=quantity)
    return await _cart_change(
        info, lambda uow, cart_id: carts.add_to_cart(uow, cart_id=cart_id, product_id=pid, quantity=quantity)
    )


async def update_cart_item(
    info: Info,
    product_id: CartProduct,
    quantity: Annotated[int, strawberry.argument(description="The line's new quantity, 0-999.")],
) -> CartPayload:
    """quantity 0 removes the line."""
    pid = await read(info, carts.prepare_product, product_id=product_id, quantity=quantity, removing=True)
    return await _cart_change(
        info,
        lambda uow, cart_id: carts.set_cart_item(uow, cart_id=cart_id, product_id=pid, quantity=quantity),
        makes_cart=quantity > 0,
    )


async def apply_coupon(
    info: Info, code: Annotated[str, strawberry.argument(description="The coupon code, any letter case.")]
) -> CartPayload:
    """Put a coupon on the caller's cart; checked now against the cart and again at checkout."""
    coupon_id = await read(info, coupon_id_for_code, code)
    return await _cart_change(
        info, lambda uow, cart_id: carts.apply_coupon(uow, cart_id=cart_id, coupon_id=coupon_id)
    )


async def remove_coupon(info: Info) -> CartPayload:
    """Take the coupon off the caller's cart."""
    return await _cart_change(
        info, lambda uow, cart_id: carts.remove_coupon(uow, cart_id=cart_id), makes_cart=False
    )


async def checkout(
    info: Info, input: Annotated[CheckoutInput, strawberry.argument(description="The checkout request.")]
) -> CheckoutPayload:
    """Pay for the caller's cart online: stock, coupon and points are taken in one go, the cart
    empties and the sale earns points."""
    customer = caller(info)
    request = checkouts.prepare_checkout(key=input.idempotency_key, redeem_points=input.redeem_points)
    sale, replayed = await run_mutation(
        info,
        lambda uow: checkouts.checkout(
            uow,
            customer_id=customer.id,
            request=request,
            prices_include_tax=ctx(info).db.settings.prices_include_tax,
        ),
    )
    return CheckoutPayload(sale=Sale.from_model(sale), replayed=replayed, errors=[])


async def refund_sale(
    info: Info, input: Annotated[RefundInput, strawberry.argument(description="What to refund, and why.")]
) -> RefundPayload:
    """Give money back for some or all of a sale: products go back in stock, points are settled."""
    staff = caller(info)
    lines = None if input.lines is None else [(line.sale_line_id, line.quantity) for line in input.lines]
    request = refunds.prepare_refund(
        sale_id=input.sale_id,
        lines=lines,
        reason=input.reason,
        key=input.idempotency_key,
        method=plain(input.method),
        register=input.register,
    )
    refund, replayed = await run_mutation(
        info, lambda uow: refunds.refund_sale(uow, request=request, by=staff.id)
    )
    return RefundPayload(refund=Refund.from_model(refund), replayed=replayed, errors=[])


@strawberry.type
class SalesQuery:
    my_cart = query(my_cart, allow=CustomerOnly)
    my_sales = query(my_sales, allow=SignedIn)
    sale = query(sale, allow=SignedIn)
    sale_by_number = query(sale_by_number, allow=SignedIn)
    sales = query(sales, allow=StaffOnly)
    receipt = query(receipt, allow=SignedIn)


@strawberry.type
class SalesMutation:
    add_to_cart = mutation(add_to_cart, allow=CustomerOnly, locks=("carts",), errors=NAMES_A_ROW)
    update_cart_item = mutation(update_cart_item, allow=CustomerOnly, locks=("carts",), errors=NAMES_A_ROW)
    apply_coupon = mutation(apply_coupon, allow=CustomerOnly, locks=("carts",), errors=(*COUPON, Code.BUSY))
    remove_coupon = mutation(remove_coupon, allow=CustomerOnly, locks=("carts",), errors=(Code.BUSY,))
    checkout = mutation(
        checkout,
        allow=CustomerOnly,
        locks=("carts", "products", "coupons", "users", "sale_numbers"),
        errors=(Code.VALIDATION, Code.NOT_FOUND, *SALE_RECORDING, Code.IDEMPOTENCY_KEY_REUSED, Code.BUSY),
    )
    refund_sale = mutation(
        refund_sale,
        allow=StaffOnly,
        locks=("sales", "cash_shifts", "products", "users"),
        errors=(
            Code.VALIDATION,
            Code.NOT_FOUND,
            Code.REFUND_EXCEEDS_SALE,
            Code.SHIFT_NOT_OPEN,
            Code.IDEMPOTENCY_KEY_REUSED,
            Code.BUSY,
        ),
    )
