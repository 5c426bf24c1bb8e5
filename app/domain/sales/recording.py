"""The one sale-recording service, shared by online checkout and POS checkout.

The caller has locked its coordinating row (the cart or the sale order) and
checked its idempotency key. Here, in the global lock order: the products in one
id-ordered statement, then the coupon, then the customer; stock, coupon and
points are decided only after those locks; then the sale, its lines, stock
movements, ledger rows and the coupon use are written in the same transaction,
and the sale's number is drawn last, right before COMMIT (numbers.py).
The staff discount (POS) comes off first, then the coupon, then points; tax is
reckoned on what is left of each line, at the rates in force when the sale is
recorded (read, not locked: a rate changed meanwhile applies to the sales after it).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select

from app.domain import money
from app.domain.accounts.models import User
from app.domain.catalog.models import Product, Service
from app.domain.catalog.service import move_stock
from app.domain.coupons.models import Coupon
from app.domain.coupons.service import discount_for, nothing_off
from app.domain.errors import DomainError, not_found, validation
from app.domain.limits import MAX_SALE_LINES
from app.domain.locks import by_id, lock_row, lock_rows
from app.domain.loyalty import ledger
from app.domain.sales import numbers, tax, tenders
from app.domain.sales.models import Sale, SaleLine
from app.domain.sales.tenders import Payment
from app.domain.taxes import views as tax_views
from app.domain.uow import UnitOfWork

__all__ = ["Payment", "SaleItem", "record_sale"]


def not_a_customer(field: str = "customerId") -> DomainError:
    return validation("This account is not a customer account", field)


def not_for_sale(field: str) -> DomainError:
    return DomainError("NOT_FOUND", "This item is not for sale", field)


def too_few(product: Product, wanted: int, field: str) -> DomainError:
    message = f"Only {product.stock} of {product.name} left, {wanted} wanted"
    return DomainError("INSUFFICIENT_STOCK", message, field)


@dataclass(frozen=True)
class SaleItem:
    item_type: str  # PRODUCT | SERVICE
    item_id: uuid.UUID
    quantity: int
    # None: the catalogue price, read under the product lock. POS lines keep the price they were added at.
    unit_price: Decimal | None = None
    discount: Decimal = money.ZERO
    name: str | None = None
    field: str = "items"  # where an error about this item points
    id_field: str = "itemId"  # its field naming the item: an unknown or retired one points there


@dataclass(frozen=True)
class Fields:
    """Input paths errors point at; they differ between online and POS checkout."""

    coupon: str = "couponCode"
    points: str = "redeemPoints"
    customer: str = "customerId"
    tendered: str = "amountTendered"


async def record_sale(
    uow: UnitOfWork,
    *,
    channel: str,
    items: list[SaleItem],
    customer_id: uuid.UUID | None,
    coupon_id: uuid.UUID | None,
    redeem_points: int,
    payment: Payment,
    by: uuid.UUID,
    fields: Fields = Fields(),
    manual_discount: Decimal = money.ZERO,
    prices_include_tax: bool = False,
) -> Sale:
    if not items:
        raise DomainError("NOTHING_TO_CHECK_OUT", "There is nothing to check out")
    if len(items) > MAX_SALE_LINES:
        raise validation(f"A sale holds at most {MAX_SALE_LINES} lines: split the order or the cart")
    ledger.to_redeem(redeem_points, fields.points)  # the backstop behind each checkout's input check
    if redeem_points and customer_id is None:
        raise validation("Redeeming points needs a customer", fields.points)

    # FOR NO KEY UPDATE: a sale changes only the stock, so carts taking the product meanwhile (their
    # foreign-key checks, FOR KEY SHARE) need not wait for it.
    sold = [i.item_id for i in items if i.item_type == "PRODUCT"]
    products = by_id(await lock_rows(uow, Product, sold, key_share=True))
    service_ids = [i.item_id for i in items if i.item_type == "SERVICE"]
    services = (
        by_id((await uow.session.scalars(select(Service).where(Service.id.in_(service_ids)))).all())
        if service_ids
        else {}
    )
    catalogue: dict[uuid.UUID, Product | Service] = {**products, **services}

    errors: list[DomainError] = []
    wanted: dict[uuid.UUID, int] = defaultdict(int)
    for item in items:
        found = catalogue.get(item.item_id)
        if found is None or not found.active:
            errors.append(not_for_sale(f"{item.field}.{item.id_field}"))
        elif item.item_type == "PRODUCT":
            wanted[item.item_id] += item.quantity
    # Every line of a short product is named, in line order: the client may fix any of them.
    short = {product_id for product_id, quantity in wanted.items() if products[product_id].stock < quantity}
    for item in items:
        if item.item_type == "PRODUCT" and item.item_id in short:
            errors.append(too_few(products[item.item_id], wanted[item.item_id], item.field))
    if errors:
        raise DomainError.many(errors)

    lines: list[dict[str, Any]] = []
    for position, item in enumerate(items):
        found = catalogue[item.item_id]
        unit_price = item.unit_price if item.unit_price is not None else found.price
        discount = min(item.discount, unit_price * item.quantity)
        lines.append(
            {
                "position": position,
                "item_type": item.item_type,
                "item_id": item.item_id,
                "name": item.name or found.name,
                "unit_price": unit_price,
                "quantity": item.quantity,
                "discount": discount,
                "line_total": unit_price * item.quantity - discount,
            }
        )
    subtotal = sum((line["line_total"] for line in lines), money.ZERO)
    if subtotal > money.MAX_AMOUNT:  # would overflow NUMERIC(12,2): refused before anything is written
        raise validation(f"A sale comes to at most {money.MAX_AMOUNT}")

    manual_discount = min(manual_discount, subtotal)  # the staff discount comes first
    coupon = None
    coupon_discount = money.ZERO
    if coupon_id is not None:
        coupon = await lock_row(uow, Coupon, coupon_id)
        if coupon is None:
            raise DomainError("COUPON_INVALID", "No such coupon", fields.coupon)
        # The clock read once the lock is ours: the wait for it may have outlasted the coupon.
        now = datetime.now(UTC)
        coupon_discount = discount_for(
            coupon, subtotal, now=now, field=fields.coupon, staff_discount=manual_discount
        )
        if coupon_discount == 0:
            raise nothing_off(fields.coupon)

    points_discount = money.cents(Decimal(redeem_points) / ledger.POINT_VALUE)
    if points_discount > subtotal - manual_discount - coupon_discount:
        raise validation("That is more points than the amount due", fields.points)
    customer = None
    if customer_id is not None:
        customer = await lock_row(uow, User, customer_id)
        if customer is None:
            raise not_found("Customer", fields.customer)
        if customer.role != "CUSTOMER":  # staff earn no points on the sales they ring up
            raise not_a_customer(fields.customer)
        if redeem_points > customer.loyalty_points:
            raise DomainError(
                "INSUFFICIENT_POINTS", f"Only {customer.loyalty_points} points available", fields.points
            )

    # Tax as it applies now, on each line after its share of every sale-level discount.
    rates = await tax_views.charged(uow.session, (found.tax_rate_id for found in catalogue.values()))
    line_rates = [rates.get(catalogue[item.item_id].tax_rate_id) for item in items]
    taxed = tax.taxed(
        [line["line_total"] for line in lines],
        line_rates,
        manual_discount + coupon_discount + points_discount,
        included=prices_include_tax,
    )
    total = taxed.total
    if total > money.MAX_AMOUNT:
        raise validation(f"A sale comes to at most {money.MAX_AMOUNT}")
    paid = tenders.settle(payment, total)
    earned = int(total) if customer is not None else 0  # floor: total is never negative
    if customer is not None and customer.loyalty_points - redeem_points + earned > ledger.MAX_POINTS:
        raise validation(f"This sale would take the customer's points past {ledger.MAX_POINTS}")

    for line, net, line_tax, rate in zip(lines, taxed.nets, taxed.taxes, line_rates):
        line.update(net_total=net, tax=line_tax, tax_rate=rate)
    sale = Sale(
        id=uuid.uuid4(),
        channel=channel,
        status="COMPLETED",
        customer_id=customer_id,
        subtotal=subtotal,
        manual_discount=manual_discount,
        tax=taxed.tax,
        prices_include_tax=prices_include_tax,
        coupon_discount=coupon_discount,
        points_discount=points_discount,
        total=total,
        coupon_id=coupon.id if coupon else None,
        coupon_code=coupon.code if coupon else None,
        points_redeemed=redeem_points,
        points_earned=earned,
        payment_method=paid.method,
        amount_tendered=paid.amount_tendered,
        change=paid.change,
        shift_id=payment.shift_id,
        refunded_amount=money.ZERO,
        points_reversed=0,
        points_restored=0,
        created_by=by,
    )
    uow.session.add(sale)
    await uow.session.flush()

    # One statement per table however many lines: each statement inside the locked window costs
    # throughput on hot products. The lines are read back through the read side after commit.
    await uow.session.execute(insert(SaleLine).values([{**line, "sale_id": sale.id} for line in lines]))
    await tenders.record(uow, sale.id, paid)
    movements = await move_stock(
        uow, products, {product_id: -quantity for product_id, quantity in wanted.items()}, reason="SALE"
    )
    numbers.number_last(uow, sale, movements)  # the sale's number, and its movements' note
    if coupon is not None:
        coupon.times_used += 1
    if customer is not None:
        await ledger.post(
            uow, user=customer, sale_id=sale.id, changes=[("REDEEM", -redeem_points), ("EARN", earned)]
        )
    await uow.session.flush()
    return sale
