"""Engines and session factories: one for the write side, one for reads.

Every engine hides statement parameters (`hide_parameters=True`): a database error's text and
SQLAlchemy's statement log would otherwise quote them, and they hold password hashes, emails
and phones."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from app.db.connectivity import DatabaseUnavailable, watch_connections
from app.db.pooler import connect_args
from app.metrics import POOL_IN_USE
from app.settings import Settings, async_url, plain_url

log = logging.getLogger("petpos.db")

# Where a pooled connection records the lock_timeout it was opened with (Connection.info): a unit of
# work that wants that one sends no SET of its own.
LOCK_TIMEOUT_MS = "petpos.lock_timeout_ms"
IN_USE = "petpos.in_use"  # counted in the pool gauge, from checkout to checkin


def _checked_out(dbapi_connection: object, record: ConnectionPoolEntry, proxy: object) -> None:
    record.info[IN_USE] = True
    POOL_IN_USE.inc()


def _checked_in(dbapi_connection: object, record: ConnectionPoolEntry) -> None:
    """Also when a connection is detached (one garbage-collected unclosed). The pool "checks in" a
    checkout that failed too (no connection could be made): that one was never counted."""
    if record.info.pop(IN_USE, False):
        POOL_IN_USE.dec()


def _connect_args(settings: Settings, *, timeouts: bool) -> dict[str, Any]:
    """`timeouts` (the server's engines): statement timeouts on the database's side, of the primary's
    connections and the replica's alike."""
    args = connect_args(settings)
    if settings.database_transaction_pooler:
        # A transaction pooler would refuse startup parameters (and session settings do not survive
        # it): there every unit of work sets its own lock_timeout (app/domain/uow.py).
        return args
    # A startup parameter of each connection: no round trip per transaction.
    args["server_settings"] = {"lock_timeout": f"{settings.lock_timeout_ms}ms"}
    if timeouts:
        # A statement past it is cancelled with its connection kept (one that waited on several locks
        # in turn answers BUSY). A transaction idle as long is ended: one whose client went silent
        # would otherwise keep its row locks until the server's TCP gave up, hours later.
        limit = f"{settings.statement_timeout_ms}ms"
        args["server_settings"]["statement_timeout"] = limit
        args["server_settings"]["idle_in_transaction_session_timeout"] = limit
    return args


# The least a request waits for a connection, however short the lock timeout is set: a burst of
# requests queues for connections that come free within milliseconds each.
MIN_POOL_WAIT_MS = 5000


def pool_timeout(settings: Settings) -> float:
    """How long a request waits for a free connection of the process, in seconds: as long as a
    statement may run (5 s at least). When every connection waits on a row held elsewhere (requests
    piling up on it), the others are answered UNAVAILABLE by then, not after SQLAlchemy's 30 s."""
    return max(settings.statement_timeout_ms, MIN_POOL_WAIT_MS) / 1000


class UnitSlots:
    """Units of work in flight at once in a process: as many as its pool keeps connections
    (PETPOS_POOL_SIZE), so the pool's overflow is left to queries however many units wait on a row
    held elsewhere. A unit that finds none free for as long as it would wait for a connection is
    DatabaseUnavailable, as one that finds no connection."""

    def __init__(self, size: int, timeout: float) -> None:
        self._free = asyncio.Semaphore(size)
        self._timeout = timeout
        self.waiting = 0  # units waiting for a slot (the tests wait on it to force a queue)

    @asynccontextmanager
    async def taken(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            async with asyncio.timeout(self._timeout):
                await self._free.acquire()
        except TimeoutError:
            log.warning("no unit of work slot came free in %.0f s; answering unavailable", self._timeout)
            raise DatabaseUnavailable() from None
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._free.release()


class Database:
    def __init__(self, settings: Settings, url: str | None = None, *, timeouts: bool = True) -> None:
        """`timeouts` (the server's engines): statement timeouts on the database's side and on ours
        (app/db/connectivity.py); off for maintenance commands whose statements read a whole database."""
        url = url or settings.database_url
        if not url:
            raise RuntimeError("DATABASE_URL is not set")
        self.settings = settings
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=settings.pool_size,
            max_overflow=settings.pool_size,
            pool_timeout=pool_timeout(settings),
            pool_pre_ping=False,
            hide_parameters=True,
            connect_args=_connect_args(settings, timeouts=timeouts),
        )
        if not settings.database_transaction_pooler:
            event.listen(self.engine.sync_engine, "connect", self._note_lock_timeout)
        # LISTEN holds a session: never through a transaction pooler.
        self.listen_url = plain_url(settings.database_listen_url or url)
        read_url = settings.database_read_url
        self.read_engine: AsyncEngine = (
            create_async_engine(
                async_url(read_url),
                pool_size=settings.pool_size,
                max_overflow=settings.pool_size,
                pool_timeout=pool_timeout(settings),
                hide_parameters=True,
                connect_args=_connect_args(settings, timeouts=timeouts),
            )
            if read_url
            else self.engine
        )
        for engine in {self.engine, self.read_engine}:
            # Fail fast; a restart's dead connections never reach a request.
            watch_connections(engine, answer_timeout=settings.answer_timeout_seconds if timeouts else None)
        # After watch_connections: a checkout it refuses (a closed connection) is never counted.
        event.listen(self.engine.sync_engine.pool, "checkout", _checked_out)
        event.listen(self.engine.sync_engine.pool, "checkin", _checked_in)
        event.listen(self.engine.sync_engine.pool, "detach", _checked_in)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self.unit_slots = UnitSlots(settings.pool_size, pool_timeout(settings))
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

    def _note_lock_timeout(self, dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        record.info[LOCK_TIMEOUT_MS] = self.settings.lock_timeout_ms

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short read-only session: queries never lock and never write."""
        async with self.read_sessions() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
