"""The customer's cart. Its row coordinates every change to it: lines merge by
product under the cart row lock, so two taps on "add" always add up."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import fields
from app.domain.catalog.models import Product
from app.domain.coupons.models import Coupon
from app.domain.coupons.service import discount_for
from app.domain.errors import DomainError, not_found
from app.domain.locks import lock_found, lock_row
from app.domain.sales.models import Cart, CartItem
from app.domain.uow import UnitOfWork

T = TypeVar("T")


class Runner(Protocol):
    """Runs one unit of work and returns what the work returned."""

    def __call__(self, work: Callable[[UnitOfWork], Awaitable[T]], /) -> Awaitable[T]: ...


async def prepare_product(
    session: AsyncSession, *, product_id: str, quantity: int, removing: bool = False
) -> uuid.UUID:
    """The product a cart line is for: an active one, unless the line is being removed."""
    fields.quantity(quantity, allow_zero=removing)
    pid = fields.parse_id(product_id, "productId", "Product")
    if removing and quantity == 0:
        return pid
    product = await session.get(Product, pid)
    if product is None or not product.active:
        raise not_found("Product", "productId")
    return pid


async def change_cart_of(
    run: Runner,
    *,
    customer_id: uuid.UUID,
    change: Callable[[UnitOfWork, uuid.UUID], Awaitable[None]],
    makes_cart: bool = True,
) -> None:
    """Run `change(uow, cart_id)` on the customer's cart, made on first use in the same unit as
    the change, so a change refused (an expired coupon) leaves no cart behind. A change that only
    takes something out (`makes_cart` False) has nothing to do without a cart and makes none. `run`
    runs one unit of work."""
    if not await run(lambda uow: change_cart(uow, customer_id=customer_id, change=change)) and makes_cart:
        await run(lambda uow: _make_and_change(uow, customer_id=customer_id, change=change))


async def _make_and_change(
    uow: UnitOfWork, *, customer_id: uuid.UUID, change: Callable[[UnitOfWork, uuid.UUID], Awaitable[None]]
) -> None:
    cart_id = await ensure_cart(uow, customer_id=customer_id)
    uow.created()  # the change locks the cart before it writes, as every change does
    await change(uow, cart_id)


async def cart_id_for(session: AsyncSession, customer_id: uuid.UUID) -> uuid.UUID | None:
    return (await session.scalars(select(Cart.id).where(Cart.customer_id == customer_id))).first()


async def lock_cart_of(uow: UnitOfWork, customer_id: uuid.UUID) -> Cart | None:
    """The customer's cart, locked, or None when there is none yet. Looked up inside the unit,
    on the primary: a replica may not have a cart made a moment ago."""
    cart_id = await cart_id_for(uow.session, customer_id)
    return await lock_row(uow, Cart, cart_id) if cart_id else None


async def change_cart(
    uow: UnitOfWork, *, customer_id: uuid.UUID, change: Callable[[UnitOfWork, uuid.UUID], Awaitable[None]]
) -> bool:
    """Run `change(uow, cart_id)` on the customer's cart, found on the primary; False when the
    customer has no cart yet (make it with ensure_cart, then change again)."""
    cart_id = await cart_id_for(uow.session, customer_id)
    if cart_id is None:
        return False
    await change(uow, cart_id)
    return True


async def ensure_cart(uow: UnitOfWork, *, customer_id: uuid.UUID) -> uuid.UUID:
    """Create the customer's cart once (first in its unit, before any lock is taken); two first
    adds at once both end up with the same cart: the second waits on the unique customer_id."""
    uow.lock_free("a new cart; the unique customer_id decides a race")
    await uow.session.execute(
        insert(Cart)
        .values(id=uuid.uuid4(), customer_id=customer_id)
        .on_conflict_do_nothing(index_elements=[Cart.customer_id])
    )
    cart_id = await cart_id_for(uow.session, customer_id)
    assert cart_id is not None
    return cart_id


async def _lock_cart(uow: UnitOfWork, cart_id: uuid.UUID) -> Cart:
    cart = await lock_found(uow, Cart, cart_id, "Cart")
    return cart


async def add_to_cart(uow: UnitOfWork, *, cart_id: uuid.UUID, product_id: uuid.UUID, quantity: int) -> None:
    """Lock the cart, then merge into the product's line in one statement; a line
    above the maximum is refused by the CHECK constraint and nothing changes."""
    cart = await _lock_cart(uow, cart_id)
    stmt = insert(CartItem).values(id=uuid.uuid4(), cart_id=cart.id, product_id=product_id, quantity=quantity)
    await uow.session.execute(
        stmt.on_conflict_do_update(
            index_elements=[CartItem.cart_id, CartItem.product_id],
            set_={"quantity": CartItem.quantity + stmt.excluded.quantity},
        )
    )
    cart.updated_at = datetime.now(UTC)
    await uow.session.flush()


async def set_cart_item(uow: UnitOfWork, *, cart_id: uuid.UUID, product_id: uuid.UUID, quantity: int) -> None:
    """Set a line's quantity; 0 removes it."""
    cart = await _lock_cart(uow, cart_id)
    if quantity == 0:
        await uow.session.execute(
            delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.product_id == product_id)
        )
    else:
        stmt = insert(CartItem).values(
            id=uuid.uuid4(), cart_id=cart.id, product_id=product_id, quantity=quantity
        )
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[CartItem.cart_id, CartItem.product_id],
                set_={"quantity": stmt.excluded.quantity},
            )
        )
    cart.updated_at = datetime.now(UTC)
    await uow.session.flush()


async def cart_subtotal(session: AsyncSession, cart_id: uuid.UUID) -> Decimal:
    return (
        await session.execute(
            select(func.coalesce(func.sum(Product.price * CartItem.quantity), 0))
            .select_from(CartItem)
            .join(Product, Product.id == CartItem.product_id)
            .where(CartItem.cart_id == cart_id)
        )
    ).scalar_one()


async def apply_coupon(uow: UnitOfWork, *, cart_id: uuid.UUID, coupon_id: uuid.UUID) -> None:
    """Checked against the cart now; checkout checks it again under the coupon row lock."""
    cart = await _lock_cart(uow, cart_id)
    coupon = await uow.session.get(Coupon, coupon_id)
    if coupon is None:
        raise DomainError("COUPON_INVALID", "No such coupon", "code")
    discount_for(coupon, await cart_subtotal(uow.session, cart.id), now=datetime.now(UTC), field="code")
    cart.coupon_id = coupon.id
    cart.updated_at = datetime.now(UTC)
    await uow.session.flush()


async def remove_coupon(uow: UnitOfWork, *, cart_id: uuid.UUID) -> None:
    cart = await _lock_cart(uow, cart_id)
    cart.coupon_id = None
    cart.updated_at = datetime.now(UTC)
    await uow.session.flush()


async def empty_cart(uow: UnitOfWork, cart: Cart) -> None:
    """After checkout, in the same transaction (the cart row is locked)."""
    await uow.session.execute(delete(CartItem).where(CartItem.cart_id == cart.id))
    await uow.session.execute(
        update(Cart).where(Cart.id == cart.id).values(coupon_id=None, updated_at=func.now())
    )
