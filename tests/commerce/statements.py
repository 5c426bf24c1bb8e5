"""Count what a request costs the server. An executemany is one client call but one
server statement per parameter set, so tests/sql_recorder.py's count() (client calls)
can hide a per-line loop; this recorder keeps both."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.engine.interfaces import ExecuteStyle
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class Statement:
    sql: str
    executemany: bool
    parameter_sets: int


class Statements(list[Statement]):
    def client_calls(self) -> int:
        return len(self)

    def server_statements(self) -> int:
        return sum(s.parameter_sets for s in self)

    def executemanys(self) -> list[str]:
        return [s.sql for s in self if s.executemany]


@contextmanager
def record_statements(engine: AsyncEngine) -> Iterator[Statements]:
    recorded = Statements()

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        # An insertmanyvalues batch is reported with executemany=True, yet it is one
        # multi-row INSERT sent with cursor.execute: only EXECUTEMANY repeats on the server.
        repeated = context.execute_style is ExecuteStyle.EXECUTEMANY
        recorded.append(Statement(statement, repeated, len(parameters) if repeated else 1))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield recorded
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
