"""Record the SQL a unit of work emits: lock-before-write and statement counts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

# A write, also as a data-modifying CTE (WITH … INSERT/UPDATE/DELETE).
WRITE = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE)\b|^\s*WITH\b.*\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\b",
    re.IGNORECASE | re.DOTALL,
)
# Every row-lock clause PostgreSQL has, not only the FOR UPDATE the services use.
ROW_LOCK = re.compile(r"\bFOR\s+(UPDATE|NO\s+KEY\s+UPDATE|SHARE|KEY\s+SHARE)\b", re.IGNORECASE)


class Recorded(list):
    def locks(self, table: str) -> list[int]:
        pattern = re.compile(rf"\bFROM {table}\b.*\bFOR (NO KEY )?UPDATE\b", re.IGNORECASE | re.DOTALL)
        return [i for i, sql in enumerate(self) if pattern.search(sql)]

    def row_locks(self) -> list[int]:
        """Statements with any row-lock clause, on any table."""
        return [i for i, sql in enumerate(self) if ROW_LOCK.search(sql)]

    def writes(self) -> list[int]:
        return [i for i, sql in enumerate(self) if WRITE.match(sql)]

    def assert_locks_before_write(self, table: str) -> None:
        locks = self.locks(table)
        assert locks, f"no SELECT ... FROM {table} ... FOR [NO KEY] UPDATE among:\n" + "\n".join(self)
        writes = self.writes()
        assert writes, "the operation wrote nothing"
        assert locks[0] < writes[0], f"a write came before the lock on {table}:\n" + "\n".join(self)

    def assert_no_locks_or_writes(self) -> None:
        for sql in self:
            assert not ROW_LOCK.search(sql) and not WRITE.match(sql), sql

    def count(self) -> int:
        """Statements sent to the server (BEGIN and COMMIT are not cursor executions)."""
        return len(self)


@contextmanager
def record_sql(engine: AsyncEngine) -> Iterator[Recorded]:
    statements = Recorded()

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
