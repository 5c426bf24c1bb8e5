"""Staff discounts on a POS order (setSaleOrderDiscount), given under the order lock.

A discount is an amount or a percent of the lines' total (after line discounts). STAFF may give
up to PETPOS_STAFF_MAX_DISCOUNT_PERCENT of it, ADMIN all of it. The order keeps the percent its
giver was allowed, and the discount never comes to more than that share of the lines as they are
at checkout: taking lines off after a discount cannot stretch it past the giver's limit. It is
taken off before the coupon and the points. Split leaves it on the source order (the new order
has none); merge keeps the target's (the sources' lapse).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Protocol

from sqlalchemy import select

from app.domain import fields, money
from app.domain.errors import DomainError, validation
from app.domain.fields import every, parse_id
from app.domain.pos import totals
from app.domain.pos.models import SaleOrder, SaleOrderItem
from app.domain.pos.orders import bump, lock_order, write
from app.domain.sales import tax
from app.domain.uow import UnitOfWork

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class OrderDiscount:
    order_id: uuid.UUID
    amount: Decimal | None
    percent: Decimal | None
    reason: str | None

    @property
    def removes(self) -> bool:
        return not (self.amount or self.percent)


def _reason(reason: str | None) -> str:
    return fields.reason(reason, max_length=200)


def prepare_discount(
    *, order_id: str, amount: Decimal | None, percent: Decimal | None, reason: str | None
) -> OrderDiscount:
    given = amount if amount is not None else percent

    def terms() -> tuple[Decimal | None, Decimal | None]:
        if (amount is None) == (percent is None):
            raise validation("Give either amount or percent", "amount" if amount is not None else "percent")
        values = every(
            amount=lambda: money.amount(amount, "amount", allow_zero=True) if amount is not None else None,
            percent=lambda: tax.rate(percent, "percent") if percent is not None else None,
        )
        return values["amount"], values["percent"]

    def why() -> str | None:
        if (amount is None) == (percent is None):
            return None  # no discount described: nothing to give a reason for
        removes = given is not None and given.is_finite() and given == 0  # 0 either way takes no reason
        return None if removes else _reason(reason)

    checked = every(order=lambda: parse_id(order_id, "orderId", "Sale order"), terms=terms, reason=why)
    given_amount, given_percent = checked["terms"]
    return OrderDiscount(checked["order"], given_amount, given_percent, checked["reason"])


def limit_for(role: str, staff_max_percent: Decimal) -> Decimal:
    """The percent of an order's lines a role may give."""
    return HUNDRED if role == "ADMIN" else Decimal(staff_max_percent)


def _cap(lines_total: Decimal, limit: Decimal) -> Decimal:
    return (lines_total * limit / HUNDRED).quantize(money.CENT, rounding=ROUND_DOWN)


class Terms(Protocol):
    """What an order's discount was given as (a SaleOrder row has these)."""

    @property
    def manual_discount(self) -> Decimal: ...
    @property
    def discount_percent(self) -> Decimal | None: ...
    @property
    def discount_limit_percent(self) -> Decimal | None: ...


@dataclass(frozen=True)
class GivenDiscount:
    manual_discount: Decimal
    discount_percent: Decimal | None
    discount_limit_percent: Decimal | None

    @classmethod
    def of(cls, order: Terms) -> GivenDiscount:
        return cls(order.manual_discount, order.discount_percent, order.discount_limit_percent)


def effective(order: Terms, lines_total: Decimal) -> Decimal:
    """The discount the order gets on lines that come to `lines_total` (after line discounts)."""
    if order.discount_percent is not None:
        amount = money.cents(lines_total * order.discount_percent / HUNDRED)
    else:
        amount = order.manual_discount
    if order.discount_limit_percent is not None:
        amount = min(amount, _cap(lines_total, order.discount_limit_percent))
    return max(money.ZERO, min(amount, lines_total))


async def set_discount(
    uow: UnitOfWork, *, discount: OrderDiscount, role: str, staff_max_percent: Decimal
) -> SaleOrder:
    """Lock the order, read its lines after the lock, check the caller's limit, then one write."""
    order = await lock_order(uow, discount.order_id)
    if discount.removes:
        stmt = bump(
            [order.id],
            manual_discount=money.ZERO,
            discount_percent=None,
            discount_limit_percent=None,
            discount_reason=None,
        )
        return await write(uow, order, stmt)
    lines = (await uow.session.scalars(select(SaleOrderItem).where(SaleOrderItem.order_id == order.id))).all()
    lines_total = totals.total(lines)
    limit = limit_for(role, staff_max_percent)
    if discount.percent is not None:
        if discount.percent > limit:
            raise DomainError(
                "DISCOUNT_NOT_ALLOWED", f"You may give at most {limit.normalize():f}%", "percent"
            )
    elif discount.amount is not None and discount.amount > _cap(lines_total, limit):
        raise DomainError(
            "DISCOUNT_NOT_ALLOWED",
            f"You may give at most {_cap(lines_total, limit)} ({limit.normalize():f}% of {lines_total})",
            "amount",
        )
    stmt = bump(
        [order.id],
        manual_discount=discount.amount if discount.amount is not None else money.ZERO,
        discount_percent=discount.percent,
        discount_limit_percent=limit,
        discount_reason=discount.reason,
    )
    return await write(uow, order, stmt)
