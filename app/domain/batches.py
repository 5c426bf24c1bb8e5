"""Batched reads for the DataLoaders: the rows of many parents in one statement, grouped."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

K = TypeVar("K")
R = TypeVar("R")


async def grouped(session: AsyncSession, stmt: Select[Any], key: Callable[[R], K]) -> dict[K, list[R]]:
    """The rows of `stmt` by `key(row)`, each group in the statement's order."""
    found: dict[K, list[R]] = defaultdict(list)
    for row in await session.scalars(stmt):
        found[key(row)].append(row)
    return found
