"""What an order's lines add up to: subtotal = sum(price x qty), total = subtotal - line discounts."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol

from app.domain import money


class Line(Protocol):
    unit_price: Decimal
    quantity: int
    discount: Decimal


def line_total(line: Line) -> Decimal:
    return money.cents(line.unit_price * line.quantity - line.discount)


def subtotal(lines: Iterable[Line]) -> Decimal:
    return money.cents(sum((line.unit_price * line.quantity for line in lines), money.ZERO))


def total(lines: Iterable[Line]) -> Decimal:
    lines = list(lines)
    return money.cents(subtotal(lines) - sum((line.discount for line in lines), money.ZERO))
