"""The lock discipline as a guard over every unit of work the tests run: a unit that writes
before it has taken a row lock fails the test, unless it declared itself lock-free
(`uow.lock_free(because)`: it only creates rows nobody else can see yet). And a mutation's unit
that locks rows of a table its declaration does not name (mutation(locks=...), shown in its
description) fails the test too."""

from __future__ import annotations

import weakref

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.domain.uow import UNIT_KEY, UnitOfWork
from tests.sql_recorder import ROW_LOCK, WRITE


class WriteBeforeLock(AssertionError):
    """A unit of work wrote before locking its coordinating row."""


class UndeclaredLock(AssertionError):
    """A mutation's unit of work locked rows of a table its declaration does not name."""


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
    """The writes before a lock and the undeclared locks seen since the last call. Each also raised
    in its unit, but a unit run by a background task (the outbox sender) may have swallowed that."""
    seen = list(violations)
    violations.clear()
    return seen


_note_lock = UnitOfWork.note_lock


def _declared_locks() -> dict[str, frozenset[str]]:
    """Each mutation's declared locks, by its GraphQL name (the unit's operation)."""
    from strawberry.utils.str_converters import to_camel_case

    from app.api.schema import Mutation

    fields = Mutation.__strawberry_definition__.fields
    return {to_camel_case(f.python_name): frozenset(f.metadata["locks"]) for f in fields}


def install() -> None:
    event.listen(Engine, "before_cursor_execute", _guard)
    declared = _declared_locks()

    def note_lock(unit: UnitOfWork, table: str) -> None:
        if unit.operation in declared and table not in declared[unit.operation]:
            violations.append(f"{unit.operation} locked {table}")
            raise UndeclaredLock(f"{unit.operation} locks {table}, not among its declared locks")
        _note_lock(unit, table)

    UnitOfWork.note_lock = note_lock  # type: ignore[method-assign]


def uninstall() -> None:
    event.remove(Engine, "before_cursor_execute", _guard)
    UnitOfWork.note_lock = _note_lock  # type: ignore[method-assign]
