"""Keyset (cursor) pagination for connections: stable under inserts, no OFFSET scans."""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import Select, cast, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.errors import validation

MAX_PAGE_SIZE = 100
T = TypeVar("T")


def page_size(first: int | None, default: int = 20) -> int:
    size = default if first is None else first
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise validation(f"first must be between 1 and {MAX_PAGE_SIZE}", "first")
    return size


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, arity: int) -> list[str]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise validation("Malformed cursor", "after") from None
    if not isinstance(values, list) or len(values) != arity:
        raise validation("Malformed cursor", "after")
    return values


@dataclass
class Page(Generic[T]):
    rows: list[T]
    cursors: list[str]
    has_next_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


async def fetch_page(session: AsyncSession, stmt: Select, *, keys: Sequence[InstrumentedAttribute],
                     first: int | None, after: str | None, descending: bool = False) -> Page:
    """Rows of `stmt` (an ORM select of one entity) ordered by `keys` (the last one unique, e.g. id)."""
    size = page_size(first)
    if after:
        values = decode_cursor(after, len(keys))
        bound = tuple_(*[cast(literal(v), key.type) for key, v in zip(keys, values)])
        stmt = stmt.where(tuple_(*keys) < bound if descending else tuple_(*keys) > bound)
    stmt = stmt.order_by(*[key.desc() if descending else key.asc() for key in keys]).limit(size + 1)
    rows = list((await session.scalars(stmt)).all())
    has_next = len(rows) > size
    rows = rows[:size]
    cursors = [encode_cursor([getattr(row, key.key) for key in keys]) for row in rows]
    return Page(rows, cursors, has_next)
