"""Read side of shifts and tenders: plain SELECTs for queries and DataLoaders, never a lock."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.batches import grouped
from app.domain.pagination import Page, fetch_page
from app.domain.sales.tenders import SaleTender
from app.domain.shifts.models import CashShift
from app.domain.shifts.totals import Totals, totals_of


async def shifts_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, CashShift]:
    return {s.id: s for s in await session.scalars(select(CashShift).where(CashShift.id.in_(ids)))}


async def totals_by_shift(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Totals]:
    return await totals_of(session, ids)


async def tenders_by_sale(
    session: AsyncSession, sale_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[SaleTender]]:
    stmt = (
        select(SaleTender)
        .where(SaleTender.sale_id.in_(sale_ids))
        .order_by(SaleTender.sale_id, SaleTender.position)
    )
    return await grouped(session, stmt, lambda tender: tender.sale_id)


async def current_shift(session: AsyncSession, register: str) -> CashShift | None:
    stmt = select(CashShift).where(CashShift.register == register.strip(), CashShift.status == "OPEN")
    return (await session.scalars(stmt)).first()


async def shifts_page(
    session: AsyncSession, *, register: str | None, status: str | None, first: int | None, after: str | None
) -> Page[CashShift]:
    """Newest first."""
    stmt = select(CashShift)
    if register is not None:
        stmt = stmt.where(CashShift.register == register.strip())
    if status is not None:
        stmt = stmt.where(CashShift.status == status)
    return await fetch_page(
        session, stmt, keys=[CashShift.opened_at, CashShift.id], first=first, after=after, descending=True
    )
