"""Refunds: the sale row is the coordinator, then its products, then the customer.

Each refunded unit returns its share of the line after sale-level discounts and
its share of the line's tax, computed on running totals so that refunding
everything returns exactly the sale total and its tax; points move in the same
proportion."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Integer, Uuid, column, insert, select, update, values
from sqlalchemy.orm.attributes import set_committed_value

from app.domain import fields, limits, money
from app.domain.accounts.models import User
from app.domain.catalog.models import Product
from app.domain.catalog.service import move_stock
from app.domain.errors import DomainError, not_found, validation
from app.domain.fields import every, parse_id
from app.domain.locks import by_id, lock_found, lock_row, lock_rows
from app.domain.loyalty import ledger
from app.domain.sales import idempotency, tax, tenders
from app.domain.sales.models import METHODS, Refund, RefundLine, Sale, SaleLine
from app.domain.shifts import models as shift_models
from app.domain.shifts.models import register_key
from app.domain.uow import UnitOfWork

OPERATION = "refundSale"


@dataclass(frozen=True)
class RefundRequest:
    sale_id: uuid.UUID
    # (sale line id, quantity); None refunds everything not yet refunded.
    lines: tuple[tuple[uuid.UUID, int], ...] | None
    reason: str
    key: str
    method: str | None = None  # None: how the sale was paid, when it was paid one way
    register: str | None = None  # whose OPEN shift the refund is paid from; required for cash

    def fingerprint(self) -> str:
        lines = sorted((str(i), q) for i, q in self.lines) if self.lines is not None else None
        return idempotency.fingerprint(
            {
                "saleId": str(self.sale_id),
                "lines": lines,
                "reason": self.reason,
                "method": self.method,
                "register": register_key(self.register) if self.register else None,
            }
        )


def prepare_refund(
    *,
    sale_id: str,
    lines: Sequence[tuple[str, int]] | None,
    reason: str,
    key: str,
    method: str | None = None,
    register: str | None = None,
) -> RefundRequest:
    """`lines`: (sale line id, quantity) as sent; a line named twice refunds the sum. Every field
    at fault is reported, each line's too."""

    def refunded() -> tuple[tuple[uuid.UUID, int], ...] | None:
        if lines is None:
            return None
        limits.at_most(lines, limits.MAX_LINES, "lines", "lines")
        if not lines:
            raise validation("Name at least one line, or omit lines to refund everything", "lines")
        check = fields.Checks()
        parsed = []
        for i, (line_id, quantity) in enumerate(lines):
            found = check(lambda: parse_id(line_id, f"lines.{i}.saleLineId", "Sale line"))
            parsed.append((found, check(lambda: _units(quantity, f"lines.{i}.quantity"))))
        check.done()
        return tuple(parsed)

    def paid_back_how() -> str | None:
        if method is not None and method not in METHODS:
            raise validation("Unknown payment method", "method")
        return method

    def drawer() -> str | None:
        where = shift_models.register(register)
        if method == "CASH" and where is None:
            raise validation("A cash refund comes out of a drawer: name the register", "register")
        return where

    checked = every(
        sale_id=lambda: parse_id(sale_id, "saleId", "Sale"),
        lines=refunded,
        reason=lambda: fields.reason(reason, max_length=500),
        key=lambda: idempotency.check_key(key),
        method=paid_back_how,
        register=drawer,
    )
    return RefundRequest(**checked)


def _units(quantity: int, field: str) -> int:
    if quantity < 1:
        raise validation("Quantity must be at least 1", field)
    return quantity


def _part(amount: Decimal, done: int, of: int) -> Decimal:
    return money.cents(amount * done / of)


def _points(points: int, fraction: Decimal) -> int:
    return int((points * fraction).to_integral_value(rounding=ROUND_HALF_UP))


def _refunded_share(sale_lines: Sequence[SaleLine]) -> Decimal:
    """The share of the sale's value refunded so far: its lines' totals in proportion to the units
    refunded (by units where the sale was free), exactly 1 once every unit is."""
    if all(l.refunded_quantity == l.quantity for l in sale_lines):
        return Decimal(1)
    value = sum((l.line_total for l in sale_lines), money.ZERO)
    if not value:
        return Decimal(sum(l.refunded_quantity for l in sale_lines)) / sum(l.quantity for l in sale_lines)
    return sum((l.line_total * l.refunded_quantity / l.quantity for l in sale_lines), money.ZERO) / value


async def refund_sale(uow: UnitOfWork, *, request: RefundRequest, by: uuid.UUID) -> tuple[Refund, bool]:
    """Returns the refund and whether it replays an earlier request with the same key."""

    return await idempotency.once(
        uow,
        lock=lambda: lock_found(uow, Sale, request.sale_id, "Sale", "saleId"),
        request=request,
        by=by,
        operation=OPERATION,
        result=Refund,
        run=lambda sale: _refund(uow, sale, request=request, by=by),
    )


async def _refund(uow: UnitOfWork, sale: Sale, *, request: RefundRequest, by: uuid.UUID) -> Refund:
    sale_lines = (
        await uow.session.scalars(
            select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.position)
        )
    ).all()
    lines = by_id(sale_lines)
    wanted: dict[uuid.UUID, int] = {}
    if request.lines is None:
        wanted = {
            l.id: l.quantity - l.refunded_quantity for l in sale_lines if l.quantity > l.refunded_quantity
        }
        if not wanted:
            raise DomainError(
                "REFUND_EXCEEDS_SALE", "Everything on this sale has been refunded already", "lines"
            )
    else:
        for i, (line_id, quantity) in enumerate(request.lines):
            line = lines.get(line_id)
            if line is None:
                raise not_found("Sale line", f"lines.{i}.saleLineId")
            wanted[line_id] = wanted.get(line_id, 0) + quantity
            if line.refunded_quantity + wanted[line_id] > line.quantity:
                raise DomainError(
                    "REFUND_EXCEEDS_SALE",
                    f"Only {line.quantity - line.refunded_quantity} of {line.name} left to refund",
                    f"lines.{i}.quantity",
                )

    # The shift FOR SHARE, after the sale and before the products in the lock order.
    method, shift_id = await tenders.refund_payment(uow, sale, request.method, request.register)
    restocked = [lines[i].item_id for i in wanted if lines[i].item_type == "PRODUCT"]
    products = by_id(await lock_rows(uow, Product, restocked, key_share=True))  # stock only: no key
    customer = None
    if sale.customer_id is not None and (sale.points_earned or sale.points_redeemed):
        customer = await lock_row(uow, User, sale.customer_id)

    refund = Refund(
        id=uuid.uuid4(),
        sale_id=sale.id,
        reason=request.reason,
        created_by=by,
        amount=money.ZERO,
        tax=money.ZERO,
        points_reversed=0,
        points_restored=0,
        method=method,
        shift_id=shift_id,
    )
    uow.session.add(refund)
    before = _refunded_share(sale_lines)
    refund_lines = []
    for line_id, quantity in wanted.items():
        line = lines[line_id]
        done = line.refunded_quantity + quantity
        amount = _part(line.net_total, done, line.quantity) - _part(
            line.net_total, line.refunded_quantity, line.quantity
        )
        line_tax = tax.refunded(line.tax, line.refunded_quantity, done, line.quantity)
        if not sale.prices_include_tax:  # the tax came on top of the net total
            amount += line_tax
        refund_lines.append(
            {
                "refund_id": refund.id,
                "sale_line_id": line.id,
                "quantity": quantity,
                "amount": amount,
                "tax": line_tax,
            }
        )
        refund.amount += amount
        refund.tax += line_tax
        set_committed_value(line, "refunded_quantity", done)  # written below, in one statement for all lines

    await uow.session.flush()  # the refund row first: its lines and ledger rows refer to it
    if customer is not None:
        after = _refunded_share(sale_lines)
        restore = _points(sale.points_redeemed, after) - sale.points_restored
        # Its own share of the points earned: what an earlier refund could not take back (the
        # balance was spent) stays forgiven rather than falling on this one.
        reverse = _points(sale.points_earned, after) - _points(sale.points_earned, before)
        reverse = max(0, min(reverse, customer.loyalty_points + restore))  # never below a zero balance
        if customer.loyalty_points + restore - reverse > ledger.MAX_POINTS:
            raise validation(f"This refund would take the customer's points past {ledger.MAX_POINTS}")
        refund.points_restored, refund.points_reversed = restore, reverse
        sale.points_restored += restore
        sale.points_reversed += reverse
        await ledger.post(
            uow,
            user=customer,
            sale_id=sale.id,
            refund_id=refund.id,
            changes=[("RESTORE", restore), ("REVERSE", -reverse)],
        )

    sale.refunded_amount += refund.amount
    # Done only when every line is: a zero-value line left over keeps the sale PARTIALLY_REFUNDED.
    every_unit = all(l.refunded_quantity == l.quantity for l in sale_lines)
    sale.status = "REFUNDED" if every_unit else "PARTIALLY_REFUNDED"
    # One statement per table however many lines, as when the sale was recorded.
    await uow.session.execute(insert(RefundLine).values(refund_lines))
    refunded = values(column("id", Uuid), column("quantity", Integer), name="refunded").data(
        list(wanted.items())
    )
    await uow.session.execute(
        update(SaleLine)
        .where(SaleLine.id == refunded.c.id)
        .values(refunded_quantity=SaleLine.refunded_quantity + refunded.c.quantity),
        execution_options={"synchronize_session": False},
    )
    restock: dict[uuid.UUID, int] = {}
    for line_id, quantity in wanted.items():
        if lines[line_id].item_type == "PRODUCT":
            restock[lines[line_id].item_id] = restock.get(lines[line_id].item_id, 0) + quantity
    await move_stock(uow, products, restock, reason="REFUND", note=sale.number)
    return refund
