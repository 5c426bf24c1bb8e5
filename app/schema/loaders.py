"""Per-operation DataLoaders over the read side, so a list costs a constant number
of statements however long it grows. Each batch reads in its own short session:
graphql-core resolves fields concurrently and a session must not be shared.

The loaders belong to the operation, not to the context: over a WebSocket every operation
shares the socket's one context for hours, each in its own task. Kept in a context variable
that `start_operation` sets when an operation starts (app/api/extensions.py), a query sent
later never answers rows that an earlier one, or a subscription beside it, cached."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

T = TypeVar("T")

# A view reads many keys at once and answers {key: value}; missing keys get the default.
View = Callable[[AsyncSession, list[Any]], Awaitable[Mapping[Any, Any]]]

# The running operation's loaders by view; tasks that graphql-core starts for its fields share them.
_loaders: ContextVar[dict[str, DataLoader]] = ContextVar("petpos_dataloaders")


def start_operation() -> None:
    _loaders.set({})


def forget() -> None:
    """Drop what the running operation has loaded: a subscription reads each event afresh."""
    _loaders.get().clear()


def load(info: Any, view: View, key: Hashable, default: Any = None) -> Awaitable[Any]:
    context = info.context

    def make() -> DataLoader:
        async def batch(keys: list[Any]) -> list[Any]:
            async with context.db.read() as session:
                found = await view(session, list(keys))
            return [found.get(k, default) for k in keys]

        return DataLoader(load_fn=batch)

    loaders, name = _loaders.get(), f"{view.__module__}.{view.__qualname__}"
    if name not in loaders:
        loaders[name] = make()
    return loaders[name].load(key)


async def load_shown(info: Any, view: View, key: Hashable | None, show: Callable[[Any], T]) -> T | None:
    """The row `key` names, as `show` shows it; None when there is no key, or no such row."""
    if key is None:
        return None
    row = await load(info, view, key)
    return None if row is None else show(row)
