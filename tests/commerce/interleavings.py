"""Forcing interleavings in the commerce race tests: hold a row lock in a side unit of
work, and wait until transactions queue on one table's row lock. No sleeps."""
from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from typing import AsyncIterator

from sqlalchemy import text

from app.db.engine import Database
from app.db.locks import lock_row
from app.db.uow import run_unit

# SQLAlchemy renders a row lock as `SELECT … FROM <table> WHERE … FOR UPDATE`.
ROW_LOCK_OF = r"\mFROM {table}\M.*\mFOR UPDATE\M"
BLOCKED = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ~* :statement")


@asynccontextmanager
async def row_lock_held(db: Database, model, row_id: uuid.UUID) -> AsyncIterator[None]:
    """Hold `row_id`'s lock in a side unit of work until the block ends, so the requests
    fired inside it queue on that row."""
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


async def wait_for_row_lock_waiters(db: Database, table: str, count: int, timeout: float = 10.0) -> None:
    """Return once `count` transactions are blocked on a lock while locking rows of `table`
    (a wait on any other row or table does not count); fail after `timeout`."""
    async def poll() -> None:
        while True:
            async with db.engine.connect() as connection:
                blocked = (await connection.execute(BLOCKED, {"statement": ROW_LOCK_OF.format(table=table)})
                           ).scalar_one()
            if blocked >= count:
                return
            await asyncio.sleep(0.01)
    try:
        await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        raise AssertionError(f"{count} transaction(s) never queued on a row lock of {table}") from None
