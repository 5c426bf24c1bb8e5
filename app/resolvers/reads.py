"""What query resolvers share: a read in a short session of its own, a row a query names by id, a
page of rows as a Relay connection."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from app.domain.pagination import Page
from app.resolvers.base import ctx, maybe_id
from app.schema.common import PageInfo

T = TypeVar("T")
M = TypeVar("M")
C = TypeVar("C")


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


def connection(kind: type[C], edge: type, node: Callable[[M], Any], page: Page[M]) -> C:
    """A page of rows as the connection `kind`: one `edge` per row, its node made by `node`."""
    edges = [edge(node=node(row), cursor=cursor) for row, cursor in zip(page.rows, page.cursors)]
    return kind(edges=edges, page_info=PageInfo.of(page))  # type: ignore[call-arg]
