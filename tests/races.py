"""Forcing interleavings in race tests: wait until N transactions are blocked on a
row lock (seen in pg_locks), instead of sleeping and hoping."""
from __future__ import annotations

import asyncio

from sqlalchemy import text

from app.db.engine import Database


async def lock_waiters(db: Database) -> int:
    async with db.engine.connect() as connection:
        return (await connection.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))).scalar_one()


async def wait_for_lock_waiters(db: Database, count: int, timeout: float = 10.0) -> None:
    """Return once at least `count` transactions wait for a lock; fail after `timeout`."""
    async def poll() -> None:
        while await lock_waiters(db) < count:
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)
