"""Sales tax arithmetic, pure: rates, a sale's lines after its sale-level discounts, and refunds.

A line is taxed on its net amount: its line total less its share of every sale-level discount
(staff discount, coupon, points), the shares in whole cents that add up exactly (money.share).
Prices are tax-exclusive by default: the tax is the net amount times the rate, half-up to cents,
and comes on top. With prices that include tax, the net amount already holds it and the tax is
extracted: net x rate / (100 + rate), half-up to cents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.domain import money
from app.domain.errors import validation

MAX_RATE = Decimal(100)
RATE_PLACES = Decimal("0.001")  # NUMERIC(6, 3): "8.250"
HUNDRED = Decimal(100)


def rate(value: Decimal | None, field: str = "rate") -> Decimal:
    """A percent from input (a tax rate, a discount): finite, 0 to 100, at most three decimals."""
    value = money.finite(value, field, "Not a percent")
    if not 0 <= value <= MAX_RATE:  # before quantize, which cannot hold "1e28" in thousandths
        raise validation("A percent is between 0 and 100", field)
    if value != value.quantize(RATE_PLACES):
        raise validation("A percent has at most three decimals", field)
    return value.quantize(RATE_PLACES).copy_abs()  # "-0" is 0.000: an answer shows no "-0.000"


def line_tax(net: Decimal, rate: Decimal | None, *, included: bool) -> Decimal:
    """The tax on one line's net amount, half-up to cents; 0 for an untaxed line."""
    if rate is None or rate == 0:
        return money.ZERO
    if included:
        return money.cents(net * rate / (HUNDRED + rate))
    return money.cents(net * rate / HUNDRED)


@dataclass(frozen=True)
class Taxed:
    """A sale's lines after sale-level discounts: their net amounts and taxes, and what it comes to."""

    nets: list[Decimal]
    taxes: list[Decimal]
    tax: Decimal
    total: Decimal  # what the customer pays: the nets, plus the tax when prices exclude it


def taxed(
    line_totals: Sequence[Decimal], rates: Sequence[Decimal | None], discount: Decimal, *, included: bool
) -> Taxed:
    """Share `discount` (every sale-level discount together) across the lines by amount, then tax
    each line on what is left of it."""
    due = sum(line_totals, money.ZERO) - discount
    # Nothing to share out: each line's net is its total (what share would give, without the work).
    nets = list(line_totals) if discount == 0 else money.share(due, list(line_totals))
    taxes = [line_tax(net, rate, included=included) for net, rate in zip(nets, rates)]
    tax = sum(taxes, money.ZERO)
    return Taxed(nets, taxes, tax, due if included else due + tax)


def part(amount: Decimal, units: int, of: int) -> Decimal:
    """`units` of `of` units' share of a line amount, half-up to cents. Refunds take the difference
    of two running parts, so refunding every unit in any steps returns the amount exactly."""
    return (amount * units / of).quantize(money.CENT, rounding=ROUND_HALF_UP)


def refunded(amount: Decimal, before: int, now: int, of: int) -> Decimal:
    """What refunding units `before`..`now` of a line returns of `amount`."""
    return part(amount, now, of) - part(amount, before, of)
