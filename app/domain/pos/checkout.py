"""POS checkout: the order row is the coordinator; the sale is recorded by the same
service as online checkout, so stock, coupon and points follow the same rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.coupons.service import coupon_id_for_code
from app.domain.errors import DomainError
from app.domain.fields import Checks, parse_id
from app.domain.locks import lock_found
from app.domain.loyalty import ledger
from app.domain.pos import discounts, orders, totals
from app.domain.pos.models import SaleOrder, SaleOrderItem
from app.domain.pos.orders import bump, not_editable, write
from app.domain.sales import idempotency, tenders
from app.domain.sales.models import Sale
from app.domain.sales.recording import Payment, SaleItem, record_sale
from app.domain.shifts.models import register_key
from app.domain.uow import UnitOfWork

OPERATION = "checkoutSaleOrder"


@dataclass(frozen=True)
class OrderCheckout:
    order_id: uuid.UUID
    key: str
    payment: Payment
    register: str | None  # whose OPEN shift the sale is rung up in; required for cash
    customer_id: uuid.UUID | None
    coupon_id: uuid.UUID | None
    redeem_points: int
    # The version the cashier saw: a precondition of running, not part of what the key stands for.
    expected_version: int | None = None

    def fingerprint(self) -> str:
        return idempotency.fingerprint(
            {
                "orderId": self.order_id,
                "tenders": self.payment.fingerprint(),
                "register": register_key(self.register) if self.register else None,
                "customerId": self.customer_id,
                "couponId": self.coupon_id,
                "redeemPoints": self.redeem_points,
            }
        )


async def prepare_checkout(
    session: AsyncSession,
    *,
    order_id: str,
    key: str,
    method: str | None,
    amount_tendered: Decimal | None,
    tender_list: list[tuple[str, Decimal, str | None]] | None = None,
    register: str | None = None,
    customer_id: str | None,
    coupon_code: str | None,
    redeem_points: int | None,
    expected_version: int | None = None,
) -> OrderCheckout:
    """Check the input and find the coupon by its code, before the unit of work; every field at
    fault is reported."""
    check = Checks()
    order = check(lambda: parse_id(order_id, "orderId", "Sale order"))
    customer = check(lambda: parse_id(customer_id, "customerId", "Customer")) if customer_id else None
    coupon_id = None
    if coupon_code:
        try:
            coupon_id = await coupon_id_for_code(session, coupon_code, field="couponCode")
        except DomainError as error:
            check.fail(error)
    paid = check(
        lambda: tenders.prepare(
            method=method, amount_tendered=amount_tendered, tenders=tender_list, register_name=register
        )
    )
    redeem = check(lambda: ledger.to_redeem(redeem_points))
    checked_key = check(lambda: idempotency.check_key(key))
    expected = check(lambda: orders.expected_version(expected_version))
    check.done()
    payment, drawer = paid
    return OrderCheckout(order, checked_key, payment, drawer, customer, coupon_id, redeem, expected)


async def checkout_order(
    uow: UnitOfWork, *, request: OrderCheckout, by: uuid.UUID, prices_include_tax: bool = False
) -> tuple[Sale, bool]:
    """Returns the sale and whether it replays an earlier request with the same key."""

    return await idempotency.once(
        uow,
        lock=lambda: lock_found(uow, SaleOrder, request.order_id, "Sale order", "orderId"),
        request=request,
        by=by,
        operation=OPERATION,
        result=Sale,
        run=lambda order: _check_out(
            uow, order, request=request, by=by, prices_include_tax=prices_include_tax
        ),
    )


async def _check_out(
    uow: UnitOfWork, order: SaleOrder, *, request: OrderCheckout, by: uuid.UUID, prices_include_tax: bool
) -> Sale:
    if order.status != "DRAFT":
        raise not_editable(order)
    orders.refuse_changed(order, request.expected_version)
    lines = (
        await uow.session.scalars(
            select(SaleOrderItem)
            .where(SaleOrderItem.order_id == order.id)
            .order_by(SaleOrderItem.created_at, SaleOrderItem.id)
        )
    ).all()
    if not lines:
        raise DomainError("NOTHING_TO_CHECK_OUT", "The order has no items", "orderId")
    customer_id = request.customer_id or order.customer_id
    payment = request.payment
    if request.register is not None:  # FOR SHARE, before the products in the lock order
        payment = replace(payment, shift_id=await tenders.share_open_shift(uow, request.register))
    sale = await record_sale(
        uow,
        channel="POS",
        items=[
            SaleItem(
                line.item_type,
                line.item_id,
                line.quantity,
                unit_price=line.unit_price,
                discount=line.discount,
                name=line.name,
                field=f"order.items.{i}",
            )
            for i, line in enumerate(lines)
        ],
        customer_id=customer_id,
        coupon_id=request.coupon_id,
        redeem_points=request.redeem_points,
        payment=payment,
        by=by,
        manual_discount=discounts.effective(order, totals.total(lines)),
        prices_include_tax=prices_include_tax,
    )
    await write(uow, order, bump([order.id], status="CHECKED_OUT", sale_id=sale.id, customer_id=customer_id))
    return sale
