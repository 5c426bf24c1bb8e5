"""How long a list input may be. Each cap is checked before any per-item work, so an oversized
list costs one length check and is refused as VALIDATION on its field."""

from __future__ import annotations

from collections.abc import Sized

from app.domain.errors import validation

# Lines named in one updateSaleOrderItems, splitSaleOrder or refundSale.
MAX_LINES = 100
# Orders merged into one target by one mergeSaleOrders (sourceOrderIds).
MAX_MERGED_ORDERS = 100
# Lines one sale may hold. Its lines go into the database in one statement, 14 values a line,
# which must stay under PostgreSQL's 32,767 parameters; no till receipt comes near it.
MAX_SALE_LINES = 1000


def at_most(values: Sized, cap: int, field: str, what: str) -> None:
    if len(values) > cap:
        raise validation(f"At most {cap} {what} at once", field)
