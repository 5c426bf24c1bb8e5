"""Read side of carts and sales: plain SELECTs for queries and DataLoaders, never a lock or a write."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import fields, money
from app.domain.batches import by_parent
from app.domain.catalog.models import Product
from app.domain.coupons.models import Coupon
from app.domain.coupons.service import discount_for, nothing_off
from app.domain.errors import DomainError
from app.domain.pagination import Page, fetch_page, where_given
from app.domain.sales import tax
from app.domain.sales.models import CART_LINE, Cart, CartItem, Refund, RefundLine, Sale, SaleLine
from app.domain.sales.recording import not_for_sale, too_few
from app.domain.taxes.models import TaxRate


@dataclass
class CartView:
    cart: Cart
    items: list[tuple[CartItem, Product]]
    coupon: Coupon | None
    subtotal: Decimal
    discount: Decimal  # as the coupon would apply now; 0 when it no longer does
    tax: Decimal = money.ZERO  # as it would apply now, after the discount
    total: Decimal = money.ZERO  # what checkout would charge now, before points
    coupon_problem: DomainError | None = None  # why the coupon gives no discount now
    # Per item: what checkout would refuse it with now (retired, too few in stock), else None.
    item_problems: list[DomainError | None] = field(default_factory=list)


def item_problem(position: int, item: CartItem, product: Product) -> DomainError | None:
    """The error checkout would give this cart line now, naming it as checkout does."""
    line = CART_LINE.format(position)
    if not product.active:
        return not_for_sale(f"{line}.product")
    return too_few(product, item.quantity, line) if product.stock < item.quantity else None


async def cart_view(
    session: AsyncSession, customer_id: uuid.UUID, *, prices_include_tax: bool = False
) -> CartView | None:
    cart = (await session.scalars(select(Cart).where(Cart.customer_id == customer_id))).first()
    if cart is None:
        return None
    rows = (
        await session.execute(
            select(CartItem, Product, TaxRate.rate)
            .join(Product, Product.id == CartItem.product_id)
            .outerjoin(TaxRate, (TaxRate.id == Product.tax_rate_id) & TaxRate.active.is_(True))
            .where(CartItem.cart_id == cart.id)
            .order_by(CartItem.created_at, CartItem.id)
        )
    ).all()
    items = [(item, product) for item, product, _ in rows]
    subtotal = sum((product.price * item.quantity for item, product in items), money.ZERO)
    coupon = await session.get(Coupon, cart.coupon_id) if cart.coupon_id else None
    discount, problem = money.ZERO, None
    if coupon is not None:
        try:
            discount = discount_for(coupon, subtotal, now=datetime.now(UTC), field=None)  # no input here
        except DomainError as error:
            problem = error
        if problem is None and discount == 0 and subtotal > 0:
            problem = nothing_off(None)
    taxed = tax.taxed(
        [product.price * item.quantity for item, product in items],
        [rate for _, _, rate in rows],
        discount,
        included=prices_include_tax,
    )
    problems = [item_problem(i, item, product) for i, (item, product) in enumerate(items)]
    return CartView(cart, items, coupon, subtotal, discount, taxed.tax, taxed.total, problem, problems)


async def sales_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Sale]:
    return {s.id: s for s in await session.scalars(select(Sale).where(Sale.id.in_(ids)))}


async def sale_by_number(session: AsyncSession, number: str) -> Sale | None:
    """The sale a receipt's number names (S-000004), typed or scanned in any letter case."""
    return (await session.scalars(select(Sale).where(Sale.number == fields.code_key(number)))).first()


async def lines_by_sale(session: AsyncSession, sale_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[SaleLine]]:
    return await by_parent(session, SaleLine, SaleLine.sale_id, sale_ids, SaleLine.position)


async def sale_lines_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, SaleLine]:
    return {l.id: l for l in await session.scalars(select(SaleLine).where(SaleLine.id.in_(ids)))}


async def refunds_by_sale(session: AsyncSession, sale_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Refund]]:
    return await by_parent(session, Refund, Refund.sale_id, sale_ids, Refund.created_at, Refund.id)


async def lines_by_refund(
    session: AsyncSession, refund_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[RefundLine]]:
    return await by_parent(session, RefundLine, RefundLine.refund_id, refund_ids, RefundLine.id)


async def sales_page(
    session: AsyncSession,
    *,
    customer_id: uuid.UUID | None = None,
    channel: str | None = None,
    first: int | None,
    after: str | None,
) -> Page[Sale]:
    """Newest first."""
    stmt = where_given(select(Sale), (Sale.customer_id, customer_id), (Sale.channel, channel))
    return await fetch_page(
        session, stmt, keys=[Sale.created_at, Sale.id], first=first, after=after, descending=True
    )
