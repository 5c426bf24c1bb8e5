"""Read side of POS orders: plain SELECTs for queries, DataLoaders and subscription
events, never a lock or a write."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.batches import by_parent
from app.domain.pagination import Page, fetch_page, where_given
from app.domain.pos.models import SaleOrder, SaleOrderItem


async def orders_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, SaleOrder]:
    return {o.id: o for o in await session.scalars(select(SaleOrder).where(SaleOrder.id.in_(ids)))}


async def items_by_order(
    session: AsyncSession, order_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[SaleOrderItem]]:
    return await by_parent(
        session, SaleOrderItem, SaleOrderItem.order_id, order_ids, SaleOrderItem.created_at, SaleOrderItem.id
    )


async def order_with_items(
    session: AsyncSession, order_id: uuid.UUID
) -> tuple[SaleOrder, list[SaleOrderItem]] | None:
    """The order and its lines in one statement, so they come from one snapshot and the
    lines are exactly those of the version read."""
    rows = (
        await session.execute(
            select(SaleOrder, SaleOrderItem)
            .outerjoin(SaleOrderItem, SaleOrderItem.order_id == SaleOrder.id)
            .where(SaleOrder.id == order_id)
            .order_by(SaleOrderItem.created_at, SaleOrderItem.id)
        )
    ).all()
    if not rows:
        return None
    return rows[0][0], [line for _, line in rows if line is not None]


async def orders_page(
    session: AsyncSession, *, status: str | None, first: int | None, after: str | None
) -> Page[SaleOrder]:
    """Newest first."""
    stmt = where_given(select(SaleOrder), (SaleOrder.status, status))
    return await fetch_page(
        session, stmt, keys=[SaleOrder.created_at, SaleOrder.id], first=first, after=after, descending=True
    )
