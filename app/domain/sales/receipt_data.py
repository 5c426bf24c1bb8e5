"""A sale's ReceiptData: the stored sale and its lines, as the receipt shows them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from app.domain import money
from app.domain.sales.models import Sale, SaleLine
from app.domain.sales.receipt import ReceiptData, ReceiptLine, ReceiptTender
from app.domain.sales.tenders import SaleTender


def discounts(sale: Sale) -> tuple[tuple[str, Decimal], ...]:
    """Sale-level discounts in the order they were taken off."""
    taken = [
        ("Staff discount", sale.manual_discount),
        (f"Coupon {sale.coupon_code}" if sale.coupon_code else "Coupon", sale.coupon_discount),
        (f"Points ({sale.points_redeemed})", sale.points_discount),
    ]
    return tuple((label, value) for label, value in taken if value)


def receipt_data(
    sale: Sale,
    lines: Sequence[SaleLine],
    tenders: Sequence[SaleTender],
    *,
    store: str,
    currency: str,
    timezone: str = "UTC",
) -> ReceiptData:
    return ReceiptData(
        store=store,
        number=sale.number,
        date=sale.created_at,
        currency=currency,
        lines=tuple(
            ReceiptLine(name=l.name, quantity=l.quantity, unit_price=l.unit_price, discount=l.discount)
            for l in lines
        ),
        subtotal=sale.subtotal,
        discounts=discounts(sale),
        tax=sale.tax,
        tax_included=sale.prices_include_tax,
        total=sale.total,
        tenders=tuple(ReceiptTender(t.method, t.amount, t.reference) for t in tenders),
        change=sale.change or money.ZERO,
        points_earned=sale.points_earned,
        points_redeemed=sale.points_redeemed,
        timezone=timezone,
    )
