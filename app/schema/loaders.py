"""Per-request DataLoaders over the read side, so a list costs a constant number
of statements however long it grows. Each batch reads in its own short session:
graphql-core resolves fields concurrently and a session must not be shared."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

T = TypeVar("T")

# A view reads many keys at once and answers {key: value}; missing keys get the default.
View = Callable[[AsyncSession, list[Any]], Awaitable[dict[Any, Any]]]


def load(info: Any, view: View, key: Hashable, default: Any = None) -> Awaitable[Any]:
    context = info.context

    def make() -> DataLoader:
        async def batch(keys: list[Any]) -> list[Any]:
            async with context.db.read() as session:
                found = await view(session, list(keys))
            return [found.get(k, default) for k in keys]

        return DataLoader(load_fn=batch)

    return context.loader(f"{view.__module__}.{view.__qualname__}", make).load(key)


async def load_shown(info: Any, view: View, key: Hashable | None, show: Callable[[Any], T]) -> T | None:
    """The row `key` names, as `show` shows it; None when there is no key, or no such row."""
    if key is None:
        return None
    row = await load(info, view, key)
    return None if row is None else show(row)
