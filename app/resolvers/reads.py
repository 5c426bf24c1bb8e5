"""What query resolvers share: a read in a short session of its own, and a row a query names by id.
(A page of rows becomes its connection type through `XxxConnection.of`.)"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from app.resolvers.base import ctx, maybe_id

T = TypeVar("T")
M = TypeVar("M")


async def read(info: Info, view: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """`view(session, *args, **kwargs)` in a read session of its own: graphql-core resolves fields
    concurrently, and one session must not serve two of them."""
    async with ctx(info).db.read() as session:
        return await view(session, *args, **kwargs)


async def by_id(
    info: Info, id: str, view: Callable[[AsyncSession, list[uuid.UUID]], Awaitable[Mapping[uuid.UUID, M]]]
) -> M | None:
    """The row `id` names, read through a by-id view; None when there is none, or when the id is
    malformed (it names nothing)."""
    row_id = maybe_id(id)
    if row_id is None:
        return None
    return (await read(info, view, [row_id])).get(row_id)
