"""The race toolkit: force interleavings instead of sleeping and hoping.

- `unit_held(db, work)` runs `work` in a real unit of work and keeps it open, its locks held,
  until the block ends; `row_lock_held(db, Model, id)` is the common case of holding one row.
  Both always let go, even when the block fails, so a failing test never blocks the next.
- `wait_for_lock_waiters(db, n, table=…)` returns once n transactions are queued on a row lock of
  that table (or blocked in a statement matching `statement=`). Naming what they wait on is
  required, so a wait on some other lock never passes for the one under test. Given the racing
  tasks (`racers=`), a racer that finishes before the n have queued fails the test here, with its
  own error if it raised one: it never waited for the lock under test (the lock was removed, or
  taken too late), so an outcome that would come out right anyway cannot hide it. One that queues
  on some other lock instead fails the test at the timeout.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from app.db.engine import Database
from app.domain.locks import lock_row
from app.domain.uow import UnitOfWork, run_unit


def row_lock_of(table: str) -> str:
    """What a statement blocked on a row lock of `table` looks like: SQLAlchemy renders
    `SELECT … FROM pets WHERE … FOR UPDATE`. pg_stat_activity keeps only the first 1 kB
    of a query (track_activity_query_size), which is plenty for one table's row lock."""
    return rf"\mFROM {table}\M.*\mFOR (NO KEY )?UPDATE\M"


async def lock_waiters(db: Database, statement: str) -> int:
    """Transactions blocked on a lock while running a statement matching `statement`
    (a case-insensitive regex), so a wait on some other lock does not count."""
    query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ~* :statement"
    async with db.engine.connect() as connection:
        return (await connection.execute(text(query), {"statement": statement})).scalar_one()


async def wait_for_lock_waiters(
    db: Database,
    count: int,
    timeout: float = 10.0,
    *,
    table: str | None = None,
    statement: str | None = None,
    racers: Iterable[asyncio.Future] = (),
) -> None:
    """Return once at least `count` transactions wait on a row lock of `table` (or in a statement
    matching `statement`); fail if one of `racers` finishes first, or after `timeout`."""
    if (table is None) == (statement is None):
        raise TypeError("name the table (or the statement) the waiters are blocked on")
    pattern = row_lock_of(table) if table is not None else statement
    racers = list(racers)

    async def poll() -> None:
        while await lock_waiters(db, pattern) < count:  # type: ignore[arg-type]
            if any(racer.done() for racer in racers):
                return
            await asyncio.sleep(0.01)

    # A racer stuck on some other lock (say, a unique index the lock should have spared it) never
    # queues where named: the wait times out and the test fails, as it should.
    await asyncio.wait_for(poll(), timeout)
    early = [racer for racer in racers if racer.done()]
    if early and await lock_waiters(db, pattern) < count:  # type: ignore[arg-type]
        early[0].result()  # its own error, if it failed
        raise AssertionError(
            f"{len(early)} racer(s) finished before {count} queued on {table or statement}: "
            "they never waited for the lock under test"
        )


def start_unit(db: Database, work: Callable[[UnitOfWork], Awaitable[Any]]) -> asyncio.Task:
    """`work` as a real unit of work (its own connection, committed at the end), started now."""
    return asyncio.create_task(run_unit(db.sessions, work, lock_timeout_ms=5000))


@asynccontextmanager
async def unit_held(
    db: Database, work: Callable[[UnitOfWork], Awaitable[Any]]
) -> AsyncIterator[asyncio.Task]:
    """Run `work` in a unit of work that stays open, its locks held, until the block ends.

    Yields the unit's task: await it after the block for the outcome (the unit commits once
    let go). If `work` itself fails, its error is raised here."""
    done, release = asyncio.Event(), asyncio.Event()

    async def work_then_hold(uow: UnitOfWork) -> Any:
        outcome = await work(uow)

        async def hold() -> None:  # after the steps `work` left for the end of its unit too
            done.set()
            await release.wait()

        uow.last(hold)
        return outcome

    task, holding = start_unit(db, work_then_hold), asyncio.create_task(done.wait())
    await asyncio.wait([task, holding], return_when=asyncio.FIRST_COMPLETED)
    holding.cancel()
    if task.done():
        task.result()  # `work` failed: raise its error here
    try:
        yield task
    finally:
        release.set()
        if not task.done():
            await asyncio.wait([task])


@asynccontextmanager
async def row_lock_held(db: Database, model: Any, row_id: uuid.UUID) -> AsyncIterator[None]:
    """Hold `row_id`'s lock with the services' own lock helper until the block ends, so the
    requests fired inside it queue on that row."""
    async with unit_held(db, lambda uow: lock_row(uow, model, row_id)) as holder:
        yield
    await holder
