"""What a shift's drawer holds, summed from the rows that name the shift (sales with their tenders,
refunds, movements), never kept on the shift row. Read by closeShift and recordCashMovement under
the shift's FOR UPDATE lock (nothing can join the shift then) and by the read side for many shifts
at once, in one statement either way."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import CompoundSelect, Integer, String, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import money
from app.domain.sales.models import METHODS, Refund, Sale
from app.domain.sales.tenders import SaleTender
from app.domain.shifts.models import CashMovement, CashShift


@dataclass
class Totals:
    cash_sales: Decimal = money.ZERO  # cash tendered less change given
    cash_refunds: Decimal = money.ZERO
    cash_movements: Decimal = money.ZERO
    sales_count: int = 0
    # Takings of the shift's sales by method (cash net of change); refunds are not deducted.
    by_method: dict[str, Decimal] = field(default_factory=dict)

    def expected(self, opening_float: Decimal) -> Decimal:
        return opening_float + self.cash_sales - self.cash_refunds + self.cash_movements


async def totals_of(session: AsyncSession, shift_ids: list[uuid.UUID]) -> dict[uuid.UUID, Totals]:
    """Totals of many shifts in one statement, however many shifts and sales: under the shift's lock
    (closeShift, recordCashMovement) every round trip holds up the sales queued behind it."""
    found: dict[uuid.UUID, Totals] = {shift_id: Totals() for shift_id in shift_ids}
    if not shift_ids:
        return found
    no_method, no_count = null().cast(String), null().cast(Integer)
    parts: CompoundSelect[Any] = union_all(
        select(
            Sale.shift_id, literal("sales"), no_method, func.count(), func.coalesce(func.sum(Sale.change), 0)
        )
        .where(Sale.shift_id.in_(shift_ids))
        .group_by(Sale.shift_id),
        select(Sale.shift_id, literal("tenders"), SaleTender.method, no_count, func.sum(SaleTender.amount))
        .join(Sale, Sale.id == SaleTender.sale_id)
        .where(Sale.shift_id.in_(shift_ids))
        .group_by(Sale.shift_id, SaleTender.method),
        select(Refund.shift_id, literal("refunds"), no_method, no_count, func.sum(Refund.amount))
        .where(Refund.shift_id.in_(shift_ids), Refund.method == "CASH")
        .group_by(Refund.shift_id),
        select(
            CashMovement.shift_id, literal("movements"), no_method, no_count, func.sum(CashMovement.amount)
        )
        .where(CashMovement.shift_id.in_(shift_ids))
        .group_by(CashMovement.shift_id),
    )
    change: dict[uuid.UUID, Decimal] = defaultdict(lambda: money.ZERO)
    tendered: list[tuple[uuid.UUID, str, Decimal]] = []
    for shift_id, part, method, count, amount in await session.execute(parts):
        totals = found[shift_id]
        if part == "sales":
            totals.sales_count, change[shift_id] = count, amount
        elif part == "tenders":
            tendered.append((shift_id, method, amount))
        elif part == "refunds":
            totals.cash_refunds = amount
        else:
            totals.cash_movements = amount
    for shift_id, method, amount in tendered:  # cash net of the change the shift's sales gave
        found[shift_id].by_method[method] = amount - change[shift_id] if method == "CASH" else amount
    for totals in found.values():
        totals.cash_sales = totals.by_method.get("CASH", money.ZERO)
        totals.by_method = {m: totals.by_method[m] for m in METHODS if m in totals.by_method}
    return found


async def totals_of_shift(session: AsyncSession, shift: CashShift) -> Totals:
    return (await totals_of(session, [shift.id]))[shift.id]
