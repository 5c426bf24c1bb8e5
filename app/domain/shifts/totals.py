"""What a shift's drawer holds, summed from the rows that name the shift (sales with their tenders,
refunds, movements), never kept on the shift row. Read by closeShift and recordCashMovement under
the shift's FOR UPDATE lock (nothing can join the shift then) and by the read side for many shifts
at once."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
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
    """Totals of many shifts in four statements, however many shifts and sales."""
    found: dict[uuid.UUID, Totals] = {shift_id: Totals() for shift_id in shift_ids}
    if not shift_ids:
        return found
    change: dict[uuid.UUID | None, Decimal] = defaultdict(lambda: money.ZERO)
    by_id: dict[uuid.UUID | None, Totals] = {}  # the statements' keys are typed nullable
    by_id.update(found.items())
    for shift_id, count, given in await session.execute(
        select(Sale.shift_id, func.count(), func.coalesce(func.sum(Sale.change), 0))
        .where(Sale.shift_id.in_(shift_ids))
        .group_by(Sale.shift_id)
    ):
        by_id[shift_id].sales_count = count
        change[shift_id] = money.ZERO if given is None else given
    for shift_id, method, amount in await session.execute(
        select(Sale.shift_id, SaleTender.method, func.sum(SaleTender.amount))
        .join(Sale, Sale.id == SaleTender.sale_id)
        .where(Sale.shift_id.in_(shift_ids))
        .group_by(Sale.shift_id, SaleTender.method)
    ):
        by_id[shift_id].by_method[method] = amount - change[shift_id] if method == "CASH" else amount
    for shift_id, amount in await session.execute(
        select(Refund.shift_id, func.sum(Refund.amount))
        .where(Refund.shift_id.in_(shift_ids), Refund.method == "CASH")
        .group_by(Refund.shift_id)
    ):
        by_id[shift_id].cash_refunds = amount
    for shift_id, amount in await session.execute(
        select(CashMovement.shift_id, func.sum(CashMovement.amount))
        .where(CashMovement.shift_id.in_(shift_ids))
        .group_by(CashMovement.shift_id)
    ):
        by_id[shift_id].cash_movements = amount
    for totals in found.values():
        totals.cash_sales = totals.by_method.get("CASH", money.ZERO)
        totals.by_method = {m: totals.by_method[m] for m in METHODS if m in totals.by_method}
    return found


async def totals_of_shift(session: AsyncSession, shift: CashShift) -> Totals:
    return (await totals_of(session, [shift.id]))[shift.id]
