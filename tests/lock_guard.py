"""The lock discipline as a guard over every unit of work the tests run: a unit that writes
before it has taken a row lock fails the test, unless it declared itself lock-free
(`uow.lock_free(because)`: it only creates rows nobody else can see yet)."""

from __future__ import annotations

import weakref

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.domain.uow import UNIT_KEY
from tests.sql_recorder import ROW_LOCK, WRITE


class WriteBeforeLock(AssertionError):
    """A unit of work wrote before locking its coordinating row."""


# Units that took a row lock in SQL of their own (a locking statement not made by lock_rows).
_locked_by_statement: weakref.WeakSet = weakref.WeakSet()
violations: list[str] = []


def _guard(conn, cursor, statement, parameters, context, executemany) -> None:
    unit = conn.info.get(UNIT_KEY)
    if unit is None or unit.lock_free_because or unit.has_locked or unit in _locked_by_statement:
        return
    if ROW_LOCK.search(statement):
        _locked_by_statement.add(unit)
        return
    if WRITE.match(statement):
        violations.append(statement)
        raise WriteBeforeLock(f"a unit of work wrote before taking any row lock:\n{statement}")


def taken_violations() -> list[str]:
    """The writes before a lock seen since the last call. Each also raised WriteBeforeLock in its
    unit, but a unit run by a background task (the outbox sender) may have swallowed that."""
    seen = list(violations)
    violations.clear()
    return seen


def install() -> None:
    event.listen(Engine, "before_cursor_execute", _guard)


def uninstall() -> None:
    event.remove(Engine, "before_cursor_execute", _guard)
