"""Batched reads for the DataLoaders: the rows of many parents in one statement, grouped."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

K = TypeVar("K")
R = TypeVar("R")


async def grouped(session: AsyncSession, stmt: Select[Any], key: Callable[[R], K]) -> dict[K, list[R]]:
    """The rows of `stmt` by `key(row)`, each group in the statement's order."""
    found: dict[K, list[R]] = defaultdict(list)
    for row in await session.scalars(stmt):
        found[key(row)].append(row)
    return found


async def by_parent(
    session: AsyncSession,
    model: type[R],
    parent: InstrumentedAttribute[K],
    ids: Sequence[K],
    *order: InstrumentedAttribute[Any],
) -> dict[K, list[R]]:
    """The `model` rows whose `parent` column is one of `ids`, by that column, each group in `order`."""
    stmt = select(model).where(parent.in_(ids)).order_by(parent, *order)
    return await grouped(session, stmt, lambda row: getattr(row, parent.key))
