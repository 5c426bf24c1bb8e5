"""Statements of the hottest path, built once and compiled once.

SQLAlchemy walks a statement on every execution to find its compiled form in its cache (the cache
key); for a large statement, run while a row is locked, that walk costs more than sending it. A
statement here is built once at import, with only named bind parameters, compiled once per dialect
and sent as driver SQL with its values in order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ClauseElement, CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler

Compiled = tuple[ClauseElement, str, tuple[str, ...], dict[str, Any]]
_compiled: dict[tuple[str, int], Compiled] = {}


async def run_built(session: AsyncSession, statement: ClauseElement, **params: Any) -> CursorResult[Any]:
    """Run `statement` (built once, kept for the process's life) in `session`'s transaction."""
    connection = await session.connection()
    key = (connection.dialect.name, id(statement))
    entry = _compiled.get(key)
    if entry is None or entry[0] is not statement:
        compiled = statement.compile(dialect=connection.dialect)
        assert isinstance(compiled, SQLCompiler)
        entry = (statement, str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params))
        _compiled[key] = entry
    _, sql, order, defaults = entry
    values = {**defaults, **params}
    return await connection.exec_driver_sql(sql, tuple(values[name] for name in order))
