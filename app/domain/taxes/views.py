"""Read side of tax rates: plain SELECTs, never a lock or a write."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal

from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.catalog.models import Product, Service
from app.domain.taxes.models import TaxRate


async def tax_rates(session: AsyncSession, *, include_inactive: bool) -> list[TaxRate]:
    stmt = select(TaxRate).order_by(TaxRate.name, TaxRate.id)
    if not include_inactive:
        stmt = stmt.where(TaxRate.active.is_(True))
    return list(await session.scalars(stmt))


async def rates_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, TaxRate]:
    return {r.id: r for r in await session.scalars(select(TaxRate).where(TaxRate.id.in_(ids)))}


async def charged(session: AsyncSession, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID | None, Decimal]:
    """The percent each of these rates charges now; retired ones (and None) are absent: they charge
    nothing."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    stmt = select(TaxRate.id, TaxRate.rate).where(TaxRate.id.in_(wanted), TaxRate.active.is_(True))
    return {row.id: row.rate for row in await session.execute(stmt)}


ItemKey = tuple[str, uuid.UUID]  # (PRODUCT | SERVICE, id)


async def item_rates(session: AsyncSession, keys: list[ItemKey]) -> dict[ItemKey, Decimal | None]:
    """The rate each catalogue item is charged at now (None: untaxed), in one statement."""
    parts = []
    for item_type, model in (("PRODUCT", Product), ("SERVICE", Service)):
        ids = [item_id for kind, item_id in keys if kind == item_type]
        if ids:
            parts.append(
                select(literal(item_type).label("item_type"), model.id, TaxRate.rate)
                .outerjoin(TaxRate, (TaxRate.id == model.tax_rate_id) & TaxRate.active.is_(True))
                .where(model.id.in_(ids))
            )
    if not parts:
        return {}
    rows = await session.execute(union_all(*parts) if len(parts) > 1 else parts[0])
    return {(row.item_type, row.id): row.rate for row in rows}
