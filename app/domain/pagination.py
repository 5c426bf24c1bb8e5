"""Keyset (cursor) pagination for connections: stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import BigInteger, Select, SmallInteger, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeEngine

from app.domain.errors import DomainError, validation

MAX_PAGE_SIZE = 100
# The longest real cursor holds a 200-character product name, JSON-escaped (an emoji takes 12
# characters) and base64-encoded: about 3,300 characters. Anything longer is refused before decoding.
MAX_CURSOR_LENGTH = 4096
INTEGER_BOUNDS = {SmallInteger: 2**15, BigInteger: 2**63}
T = TypeVar("T")


def page_size(first: int | None, default: int = 20) -> int:
    size = default if first is None else first
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise validation(f"first must be between 1 and {MAX_PAGE_SIZE}", "first")
    return size


def encode_cursor(values: Sequence[Any]) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        return value if isinstance(value, (int, str)) else str(value)

    raw = json.dumps([plain(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def malformed() -> DomainError:
    return validation("Malformed cursor", "after")


def decode_cursor(cursor: str, keys: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    """The key values a cursor holds, each checked against its column's type here, so a forged
    cursor is VALIDATION and never reaches the database as a value it cannot hold."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise malformed()
    try:
        values = json.loads(base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True))
    except (ValueError, TypeError, RecursionError, binascii.Error):
        raise malformed() from None
    if not isinstance(values, list) or len(values) != len(keys):
        raise malformed()
    return [key_value(key.type, value) for key, value in zip(keys, values)]


def key_value(column_type: TypeEngine[Any], value: Any) -> Any:
    """`value` as the Python value of a column of `column_type`, or VALIDATION."""
    kind = column_type.python_type
    if kind is int:
        bound = next((b for t, b in INTEGER_BOUNDS.items() if isinstance(column_type, t)), 2**31)
        if type(value) is int and -bound <= value < bound:
            return value
        raise malformed()
    if not isinstance(value, str):
        raise malformed()
    try:
        value = text(value)  # checked first: some parsers stop at a NUL and ignore what follows
        if kind is uuid.UUID:
            return uuid.UUID(value)
        if kind is datetime:
            return timestamp(value, aware=bool(getattr(column_type, "timezone", False)))
        if kind is Decimal:
            return decimal(value, column_type)
        if kind is str:
            length = getattr(column_type, "length", None)
            if length is not None and len(value) > length:
                raise ValueError("longer than the column holds")
            return value
    except (ValueError, OverflowError, InvalidOperation):
        raise malformed() from None
    raise TypeError(f"No cursor rule for a key of type {column_type}")


def text(value: str) -> str:
    """PostgreSQL text holds neither NUL nor a lone surrogate (which has no UTF-8 form)."""
    if "\x00" in value:
        raise ValueError("NUL")
    value.encode("utf-8")
    return value


def timestamp(value: str, *, aware: bool) -> datetime:
    parsed = datetime.fromisoformat(value)
    if (parsed.tzinfo is not None) != aware:
        raise ValueError("time zone")
    # Every aware datetime Python can hold in UTC, PostgreSQL can hold; one near the ends of the
    # calendar with an offset has no UTC form (OverflowError).
    return parsed.astimezone(UTC) if aware else parsed


def decimal(value: str, column_type: TypeEngine[Any]) -> Decimal:
    parsed = Decimal(value)
    precision, scale = getattr(column_type, "precision", None), getattr(column_type, "scale", None) or 0
    # Digits before and after the point the column holds (an unbounded NUMERIC: a generous bound).
    whole, places = (precision - scale, scale) if precision else (1000, 1000)
    # Only NaN and infinities have a letter for an exponent, and they fail the first test.
    exponent = cast(int, parsed.as_tuple().exponent)
    if not parsed.is_finite() or parsed.copy_abs() >= Decimal(10) ** whole or exponent < -places:
        raise ValueError("out of range")
    return parsed


@dataclass
class Page(Generic[T]):
    rows: list[T]
    cursors: list[str]
    has_next_page: bool
    # Paging is forward only: there are rows before this page exactly when it starts after a cursor.
    has_previous_page: bool = False

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def where_given(stmt: Select[T], *filters: tuple[InstrumentedAttribute[Any], Any]) -> Select[T]:
    """`stmt` narrowed to the rows whose column equals the value, for each (column, value) given:
    a None value filters nothing."""
    return stmt.where(*[column == value for column, value in filters if value is not None])


async def fetch_page(
    session: AsyncSession,
    stmt: Select[T],
    *,
    keys: Sequence[InstrumentedAttribute[Any]],
    first: int | None,
    after: str | None,
    descending: bool = False,
) -> Page[T]:
    """Rows of `stmt` (an ORM select of one entity) ordered by `keys` (the last one unique, e.g. id)."""
    size = page_size(first)
    if after:
        values = decode_cursor(after, keys)
        bound = tuple_(*[literal(v, key.type) for key, v in zip(keys, values)])
        stmt = stmt.where(tuple_(*keys) < bound if descending else tuple_(*keys) > bound)
    stmt = stmt.order_by(*[key.desc() if descending else key.asc() for key in keys]).limit(size + 1)
    rows = list((await session.scalars(stmt)).all())
    has_next = len(rows) > size
    rows = rows[:size]
    cursors = [encode_cursor([getattr(row, key.key) for key in keys]) for row in rows]
    return Page(rows, cursors, has_next, has_previous_page=bool(after))
