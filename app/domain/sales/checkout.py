"""Online checkout: the cart row is the coordinator; the sale is recorded by the shared service."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from app.domain.errors import DomainError
from app.domain.fields import every
from app.domain.loyalty import ledger
from app.domain.sales import idempotency
from app.domain.sales.cart import empty_cart, lock_cart_of
from app.domain.sales.models import CART_LINE, Cart, CartItem, Sale
from app.domain.sales.recording import Fields, Payment, SaleItem, record_sale
from app.domain.uow import UnitOfWork

OPERATION = "checkout"


@dataclass(frozen=True)
class CartCheckout:
    key: str
    redeem_points: int

    def fingerprint(self) -> str:
        return idempotency.fingerprint({"redeemPoints": self.redeem_points})


def prepare_checkout(*, key: str, redeem_points: int | None) -> CartCheckout:
    checked = every(key=lambda: idempotency.check_key(key), redeem=lambda: ledger.to_redeem(redeem_points))
    return CartCheckout(checked["key"], checked["redeem"])


async def checkout(
    uow: UnitOfWork, *, customer_id: uuid.UUID, request: CartCheckout, prices_include_tax: bool = False
) -> tuple[Sale, bool]:
    """Returns the sale and whether it replays an earlier request with the same key."""
    return await idempotency.once(
        uow,
        lock=lambda: lock_cart_of(uow, customer_id),
        request=request,
        by=customer_id,
        operation=OPERATION,
        result=Sale,
        run=lambda cart: _check_out(
            uow,
            cart,
            customer_id=customer_id,
            redeem_points=request.redeem_points,
            prices_include_tax=prices_include_tax,
        ),
    )


async def _check_out(
    uow: UnitOfWork,
    cart: Cart | None,
    *,
    customer_id: uuid.UUID,
    redeem_points: int,
    prices_include_tax: bool,
) -> Sale:
    if cart is None:
        raise DomainError("NOTHING_TO_CHECK_OUT", "Your cart is empty")
    lines = (
        await uow.session.scalars(
            select(CartItem).where(CartItem.cart_id == cart.id).order_by(CartItem.created_at, CartItem.id)
        )
    ).all()
    if not lines:
        raise DomainError("NOTHING_TO_CHECK_OUT", "Your cart is empty")
    sale = await record_sale(
        uow,
        channel="ONLINE",
        items=[
            SaleItem("PRODUCT", line.product_id, line.quantity, field=CART_LINE.format(i), id_field="product")
            for i, line in enumerate(lines)
        ],
        customer_id=customer_id,
        coupon_id=cart.coupon_id,
        redeem_points=redeem_points,
        payment=Payment("ONLINE"),
        by=customer_id,
        fields=Fields(coupon="cart.coupon", customer="me"),
        prices_include_tax=prices_include_tax,
    )
    await empty_cart(uow, cart)
    return sale
