"""Read side of the catalog: plain SELECTs, never a lock or a write."""

from __future__ import annotations

import uuid

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import fields
from app.domain.catalog.models import Product, Service, StockMovement
from app.domain.errors import validation
from app.domain.pagination import Page, encode_cursor, fetch_page
from app.domain.search import contains, forms, words


async def products_page(
    session: AsyncSession,
    *,
    search: str | None,
    category: str | None,
    include_inactive: bool,
    first: int | None,
    after: str | None,
) -> Page[Product]:
    stmt = select(Product)
    if not include_inactive:
        stmt = stmt.where(Product.active.is_(True))
    if category:
        stmt = stmt.where(Product.category == category)
    for word in words(search):  # each word somewhere in the name, or the SKU in its stored form
        in_name = [Product.name.ilike(contains(form)) for form in forms(word)]
        stmt = stmt.where(or_(*in_name, Product.sku.like(contains(fields.code_key(word)))))
    return await fetch_page(session, stmt, keys=[Product.name, Product.id], first=first, after=after)


async def products_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Product]:
    rows = await session.scalars(select(Product).where(Product.id.in_(ids)))
    return {row.id: row for row in rows}


async def services_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Service]:
    rows = await session.scalars(select(Service).where(Service.id.in_(ids)))
    return {row.id: row for row in rows}


async def product_by_sku(session: AsyncSession, sku: str) -> Product | None:
    """The product a scanned or typed SKU names, in any letter case."""
    return (await session.scalars(select(Product).where(Product.sku == fields.code_key(sku)))).first()


async def services(session: AsyncSession, *, include_inactive: bool) -> list[Service]:
    stmt = select(Service).order_by(Service.name, Service.id)
    if not include_inactive:
        stmt = stmt.where(Service.active.is_(True))
    return list(await session.scalars(stmt))


async def stock_movements(
    session: AsyncSession, *, product_id: uuid.UUID, first: int, after: str | None
) -> list[StockMovement]:
    """A product's movements, newest first, paged by keyset. The list carries no cursors, so `after`
    is the id of the last movement the client has; its (created_at, id) is the page's bound."""
    keys = [StockMovement.created_at, StockMovement.id]
    cursor = None
    if after:
        try:
            anchor_id = uuid.UUID(after)
        except ValueError:
            raise validation("`after` must be the id of a stock movement", "after") from None
        anchor = (
            await session.execute(
                select(*keys).where(StockMovement.id == anchor_id, StockMovement.product_id == product_id)
            )
        ).first()
        if anchor is None:
            raise validation("`after` names no stock movement of this product", "after")
        cursor = encode_cursor(list(anchor))
    stmt = select(StockMovement).where(StockMovement.product_id == product_id)
    page = await fetch_page(session, stmt, keys=keys, first=first, after=cursor, descending=True)
    return page.rows
