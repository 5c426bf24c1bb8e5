"""The one unit of work: the only place that begins, times out, retries and commits."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from typing import TypeVar

import asyncpg
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import metrics
from app.db.connectivity import QUERY_CANCELED, DatabaseUnavailable, is_unavailable
from app.db.engine import LOCK_TIMEOUT_MS, UnitSlots
from app.domain.errors import DomainError, constraint_error, validation
from app.domain.locks import LOCK_ORDER, LockOrderViolation
from app.domain.models import CONSTRAINT_ERRORS

log = logging.getLogger("petpos.uow")

T = TypeVar("T")

DEADLOCK, SERIALIZATION_FAILURE, LOCK_NOT_AVAILABLE = "40P01", "40001", "55P03"
NUMERIC_VALUE_OUT_OF_RANGE = "22003"
RETRYABLE = {DEADLOCK, SERIALIZATION_FAILURE, LOCK_NOT_AVAILABLE}
MAX_RETRIES = 3
UNIT_KEY = "petpos.unit_of_work"


class UnitOfWork:
    """What a service function gets: the session of one transaction."""

    def __init__(self, session: AsyncSession, operation: str = "mutation") -> None:
        self.session = session
        self.operation = operation  # the GraphQL field (or task) the unit runs for
        self._lock_rank = -1
        self._locked: set[str] = set()
        self.lock_free_because: str | None = None
        self._last_steps: list[Callable[[], Awaitable[None]]] = []

    def last(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run `step` once the work is done, just before COMMIT: for a lock that every unit of its
        kind queues on, taken last so that it is held only for its statement and the COMMIT."""
        self._last_steps.append(step)

    def lock_free(self, because: str) -> None:
        """Declare that this unit writes without locking a coordinating row, and why: it only
        creates rows nobody else can see yet, and constraints decide its races; or it deletes rows
        that have done their work (app/prune.py). Every other unit locks before it writes (the
        tests' lock guard holds them to that)."""
        self.lock_free_because = because

    def created(self) -> None:
        """The rows a lock-free start of this unit made are there: from here on it locks before it
        writes, as any other unit."""
        self.lock_free_because = None

    @property
    def has_locked(self) -> bool:
        """Read by the tests' lock guard (tests/lock_guard.py): no write before a lock."""
        return bool(self._locked)

    def note_lock(self, table: str) -> None:
        rank = LOCK_ORDER[table]
        if rank < self._lock_rank or table in self._locked:
            raise LockOrderViolation(
                f"lock on {table} after {sorted(self._locked)} breaks the global lock order"
            )
        self._lock_rank = rank
        self._locked.add(table)


def sqlstate(error: BaseException) -> str | None:
    orig = getattr(error, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        code: str | None = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return code
    return None


def constraint_name(error: BaseException) -> str | None:
    orig = getattr(error, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        name: str | None = getattr(candidate, "constraint_name", None)
        if name:
            return name
    return None


async def run_unit(
    sessions: async_sessionmaker[AsyncSession],
    work: Callable[[UnitOfWork], Awaitable[T]],
    *,
    lock_timeout_ms: int,
    retries: int = MAX_RETRIES,
    operation: str = "mutation",
    slots: UnitSlots | None = None,
) -> T:
    """Run `work` in one transaction; rerun it whole on deadlock, serialization
    failure or lock timeout (at most `retries` times), then answer BUSY; a statement past the
    statement timeout answers BUSY at once. A lost connection
    reruns it once if COMMIT was not sent yet, else raises DatabaseUnavailable. Each attempt holds
    one of `slots` (the server's: Database.unit_slots) while it runs."""
    attempt, rerun = 0, False
    while True:
        committing, connected = False, False
        try:
            async with slots.taken() if slots is not None else nullcontext(), sessions() as session:
                async with session.begin():
                    connection = await session.connection()
                    connected = True
                    if connection.info.get(LOCK_TIMEOUT_MS) != lock_timeout_ms:  # else set at connect
                        await session.execute(
                            text("SELECT set_config('lock_timeout', :v, true)"), {"v": f"{lock_timeout_ms}ms"}
                        )
                    uow = UnitOfWork(session, operation)
                    # Where the tests' lock guard (a before_cursor_execute hook) finds the unit.
                    connection.info[UNIT_KEY] = uow
                    try:
                        result = await work(uow)
                        for step in uow._last_steps:
                            await step()
                    finally:
                        if not connection.invalidated:  # a lost connection has no info left
                            connection.info.pop(UNIT_KEY, None)
                    committing = True  # leaving the block sends COMMIT
            return result
        except DBAPIError as error:
            state = sqlstate(error)
            if state in RETRYABLE:
                metrics.LOCK_RETRIES.labels(operation=operation, sqlstate=state).inc()
                if attempt >= retries:
                    log.warning("giving up after %d retries (%s) in %s", retries, state, operation)
                    raise DomainError("BUSY", "The system is busy with this record; please retry") from error
                attempt += 1
                await asyncio.sleep(random.uniform(0.005, 0.025) * 2**attempt)
                continue
            if state == QUERY_CANCELED:
                # A statement past the statement timeout, having waited on several locks in turn or
                # on a database slow to answer: not rerun, as it would take as long again.
                metrics.STATEMENT_TIMEOUTS.labels(operation=operation).inc()
                log.warning("a statement ran past the statement timeout in %s", operation)
                raise DomainError("BUSY", "The system is busy with this record; please retry") from error
            mapped = constraint_error(CONSTRAINT_ERRORS, constraint_name(error))
            if mapped is not None:
                raise mapped from error
            if state == NUMERIC_VALUE_OUT_OF_RANGE:
                # The backstop behind the input bounds (money.MAX_PRICE, MAX_AMOUNT): an amount
                # too large for NUMERIC(12,2) is the caller's input, never INTERNAL.
                raise validation("An amount is too large") from error
            rerun = _after_lost_connection(error, committing=committing, rerun=rerun, connected=connected)
        # Connecting failed (asyncpg's errors, unwrapped), or no connection came free in time.
        except (OSError, asyncpg.PostgresError, PoolTimeout) as error:
            rerun = _after_lost_connection(error, committing=committing, rerun=rerun, connected=connected)


def _after_lost_connection(error: Exception, *, committing: bool, rerun: bool, connected: bool) -> bool:
    """Whether to run the unit again: once, when its connection died before COMMIT was sent
    (nothing of it was written). When COMMIT was sent the outcome is unknown, so it is never
    rerun blindly: the caller learns the database is unavailable and an idempotency key or
    the record's version settles what happened. No connection to be had (connecting failed or
    timed out, the pool ran dry) is answered at once: a rerun would wait as long again. Any other
    error is raised as it is."""
    if not is_unavailable(error):
        raise error
    if not connected:
        log.warning("no connection to the database; answering unavailable")
        raise DatabaseUnavailable() from error
    if committing or rerun:
        log.warning("connection lost%s; answering unavailable", " during COMMIT" if committing else "")
        raise DatabaseUnavailable() from error
    log.warning("connection lost before COMMIT; running the unit once more")
    return True
