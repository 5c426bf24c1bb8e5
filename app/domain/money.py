"""Money: Decimal amounts in one currency, rounded half-up to cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.domain.errors import validation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("9999999999.99")  # NUMERIC(12, 2)
# A line holds at most 999 units, so a price up to this keeps every line total far inside
# NUMERIC(12,2); a whole sale is checked against MAX_AMOUNT when it is recorded.
MAX_PRICE = Decimal("1000000.00")


def cents(amount: Decimal) -> Decimal:
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def finite(value: Decimal | None, field: str, message: str) -> Decimal:
    """A finite number from input (no NaN, no Infinity), or VALIDATION with `message`."""
    try:
        value = Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError):
        raise validation(message, field) from None
    if not value.is_finite():
        raise validation(message, field)
    return value


def amount(
    value: Decimal | None,
    field: str,
    *,
    positive: bool = True,
    allow_zero: bool = False,
    most: Decimal = MAX_AMOUNT,
    what: str = "An amount",
) -> Decimal:
    """An amount from input: finite, at most `most` either way (NUMERIC(12,2)'s largest unless
    told), at most two decimals, > 0 (or >= 0; or of either sign when not `positive`). Messages
    name `what` it is and the limit it passed."""
    value = finite(value, field, "Not an amount")
    if positive and (value < 0 or (value == 0 and not allow_zero)):
        raise validation(
            f"{what} must be greater than zero" if not allow_zero else f"{what} cannot be negative", field
        )
    # Before quantize, which cannot hold "1e28" in cents; copy_abs, as abs() rounds to the context
    # and "1e999999999" overflows it.
    if value.copy_abs() > most:
        raise validation(f"{what} is at most {most}" + ("" if positive else " either way"), field)
    if value != value.quantize(CENT):
        raise validation(f"{what} has at most two decimals", field)
    value = value.quantize(CENT)
    return value.copy_abs() if value == 0 else value  # "-0" is 0.00: an answer shows no "-0.00"


def price(value: Decimal | None, field: str = "price") -> Decimal:
    """A unit price from input: an amount above zero and at most MAX_PRICE."""
    return amount(value, field, most=MAX_PRICE, what="A price")


def share(total: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split `total` in proportion to `weights` into cents that add up to `total` exactly
    (largest remainder), so refunding every part returns the whole."""
    whole = sum(weights)
    if not weights:
        return []
    if whole == 0:
        weights, whole = [Decimal(1)] * len(weights), Decimal(len(weights))
    raw = [total * w / whole for w in weights]
    parts = [r.quantize(CENT, rounding="ROUND_DOWN") for r in raw]
    left = int((total - sum(parts)) / CENT)
    for i in sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)[:left]:
        parts[i] += CENT
    return parts
