"""Forcing interleavings in race tests: wait until N transactions are blocked on a
lock, instead of sleeping and hoping."""
from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator

from sqlalchemy import text

from app.db.engine import Database
from app.db.locks import lock_row
from app.db.uow import run_unit


def row_lock_of(table: str) -> str:
    """What a statement blocked on a row lock of `table` looks like: SQLAlchemy renders
    `SELECT … FROM pets WHERE … FOR UPDATE`. pg_stat_activity keeps only the first 1 kB
    of a query (track_activity_query_size), which is plenty for one table's row lock."""
    return rf"\mFROM {table}\M.*\mFOR UPDATE\M"


async def lock_waiters(db: Database, statement: str | None = None) -> int:
    """Ungranted locks in pg_locks; with `statement` (a case-insensitive regex), only the
    transactions blocked on a lock while running a matching statement, so a wait on some
    other lock (a unique index entry, another table's row) does not count."""
    if statement is None:
        query, params = "SELECT count(*) FROM pg_locks WHERE NOT granted", {}
    else:
        query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ~* :statement"
        params = {"statement": statement}
    async with db.engine.connect() as connection:
        return (await connection.execute(text(query), params)).scalar_one()


async def wait_for_lock_waiters(db: Database, count: int, timeout: float = 10.0, *,
                                table: str | None = None, statement: str | None = None) -> None:
    """Return once at least `count` transactions wait for a lock; fail after `timeout`.

    `table="pets"`: only those blocked on a row lock of pets (SELECT … FOR UPDATE).
    `statement`: only those blocked while running a statement matching this regex.
    Neither: any ungranted lock at all.
    """
    if table is not None:
        statement = row_lock_of(table)

    async def poll() -> None:
        while await lock_waiters(db, statement) < count:
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


@asynccontextmanager
async def row_lock_held(db: Database, model, row_id: uuid.UUID) -> AsyncIterator[None]:
    """Hold `row_id`'s lock in a side unit of work until the block ends, so the requests
    fired inside it queue on that row. Let go even when the block fails."""
    held, release = asyncio.Event(), asyncio.Event()

    async def hold(uow) -> None:
        await lock_row(uow, model, row_id)
        held.set()
        await release.wait()

    holder = asyncio.create_task(run_unit(db.sessions, hold, lock_timeout_ms=5000))
    await held.wait()
    try:
        yield
    finally:
        release.set()
        await holder
