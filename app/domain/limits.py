"""How long a list input may be. Each cap is checked before any per-item work, so an oversized
list costs one length check and is refused as VALIDATION on its field."""

from __future__ import annotations

from collections.abc import Sized

from app.domain.errors import validation

# Lines named in one updateSaleOrderItems, splitSaleOrder or refundSale.
MAX_LINES = 100
# Orders merged into one target by one mergeSaleOrders (sourceOrderIds).
MAX_MERGED_ORDERS = 100


def at_most(values: Sized, cap: int, field: str, what: str) -> None:
    if len(values) > cap:
        raise validation(f"At most {cap} {what} at once", field)
