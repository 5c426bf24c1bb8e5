"""Read side of shifts and tenders: plain SELECTs for queries and DataLoaders, never a lock."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.batches import by_parent
from app.domain.pagination import Page, fetch_page, where_given
from app.domain.sales.tenders import SaleTender
from app.domain.shifts.models import CashShift, is_register
from app.domain.shifts.totals import Totals, totals_of


async def shifts_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, CashShift]:
    return {s.id: s for s in await session.scalars(select(CashShift).where(CashShift.id.in_(ids)))}


async def totals_by_shift(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Totals]:
    return await totals_of(session, ids)


async def tenders_by_sale(
    session: AsyncSession, sale_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[SaleTender]]:
    return await by_parent(session, SaleTender, SaleTender.sale_id, sale_ids, SaleTender.position)


async def current_shift(session: AsyncSession, register: str) -> CashShift | None:
    stmt = select(CashShift).where(is_register(register), CashShift.status == "OPEN")
    return (await session.scalars(stmt)).first()


async def shifts_page(
    session: AsyncSession, *, register: str | None, status: str | None, first: int | None, after: str | None
) -> Page[CashShift]:
    """Newest first."""
    stmt = where_given(select(CashShift), (CashShift.status, status))
    if register is not None:
        stmt = stmt.where(is_register(register))
    return await fetch_page(
        session, stmt, keys=[CashShift.opened_at, CashShift.id], first=first, after=after, descending=True
    )
