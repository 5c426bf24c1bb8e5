"""Losing the database: which errors mean it is unreachable, and a pool that never hands out a
connection the server already closed.

While PostgreSQL is down, restarting or dropping connections, a request fails fast with
`DatabaseUnavailable` (the API answers it 503 UNAVAILABLE), and once it is back the next
checkout opens a fresh connection, so no request fails on a connection that died meanwhile."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

# SQLSTATE class 08 (connection exception) and the server going away: admin_shutdown,
# crash_shutdown, cannot_connect_now (starting up or shutting down); and too_many_connections, a
# server with no connection to spare (as in a reconnect storm after a restart).
SERVER_GOING_AWAY = {"57P01", "57P02", "57P03", "53300"}
# A read the database cancelled at its statement_timeout (app/db/engine.py): it did not answer in time.
QUERY_CANCELED = "57014"
# A server that does not answer at all (a host down, a dropped route): give up connecting after this
# many seconds rather than asyncpg's 60, so the request is answered UNAVAILABLE soon.
CONNECT_TIMEOUT_SECONDS = 5
OPENED_AT = "petpos.opened_at"  # Connection.info: when the connection was made (time.monotonic())


class DatabaseUnavailable(Exception):
    """The database could not be reached, or the connection was lost before the outcome was known."""

    def __init__(self, message: str = "The database is unavailable; please retry shortly") -> None:
        super().__init__(message)


def _is_connection_error(error: BaseException) -> bool:
    if isinstance(error, DatabaseUnavailable | PoolTimeout | ConnectionError | TimeoutError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, asyncpg.InterfaceError) and "closed" in str(error):
        return True  # "connection is closed", "connection was closed in the middle of operation"
    state = getattr(error, "sqlstate", None)
    if isinstance(state, str) and (state.startswith("08") or state in SERVER_GOING_AWAY | {QUERY_CANCELED}):
        return True
    # asyncpg lets a failed connect's socket error through unwrapped: a missing Unix socket is
    # FileNotFoundError, a closed port ConnectionRefusedError.
    return isinstance(error, OSError) and error.errno is not None


def is_unavailable(error: BaseException) -> bool:
    """Whether `error`, or anything in its chain, says the database is unreachable."""
    return any(_is_connection_error(current) for current in causes(error))


def causes(error: BaseException) -> Iterator[BaseException]:
    """`error` and everything in its chain: causes, contexts and a driver error's original."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        stack += [current.__cause__, current.__context__, orig if isinstance(orig, BaseException) else None]


# How an asyncpg connection of our own fails once it is lost (InternalClientError: one the server
# ended under a statement can fail so, closed).
LOST = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)


async def close_or_drop(connection: asyncpg.Connection, within: float) -> None:
    """Close a connection of asyncpg's own (a LISTEN connection) politely if the server answers
    `within` seconds; else drop it, as one gone silent would never answer."""
    try:
        await connection.close(timeout=within)
    except LOST:
        connection.terminate()


def watch_connections(engine: AsyncEngine, *, answer_timeout: float | None = None) -> None:
    """Connecting gives up after CONNECT_TIMEOUT_SECONDS. At checkout, a pooled connection whose
    socket the server closed (a restart, a terminated backend) is dropped and another one made,
    at no cost to a live one: asyncpg already knows the connection is closed. SQLAlchemy's
    documented pessimistic disconnect handling, without pre-ping's round trip on every checkout.

    A statement with no answer after `answer_timeout` seconds (None: no limit) is abandoned with
    TimeoutError: the database answers by then even a statement it cancelled at its statement_timeout
    (app/db/engine.py), so this one has gone silent (a dropped route, a stopped server), which says
    nothing at all. Its connection is dropped at once, and so is every connection opened before it,
    as each is reused or closed: they are likely silent too, and a rollback or a polite close
    would wait on the silence again."""
    silent_since = -math.inf  # when the last statement went unanswered (time.monotonic())

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        cparams.setdefault("timeout", CONNECT_TIMEOUT_SECONDS)
        if answer_timeout is not None:
            cparams.setdefault("command_timeout", answer_timeout)

    @event.listens_for(engine.sync_engine, "connect")
    def _opened(dbapi_connection: Any, record: Any) -> None:
        record.info[OPENED_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and driver.is_closed():
            raise DisconnectionError("connection closed by the server")

    @event.listens_for(engine.sync_engine, "handle_error")
    def _timed_out(context: Any) -> None:
        nonlocal silent_since
        if not isinstance(context.original_exception, TimeoutError):
            return
        silent_since = time.monotonic()
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = True  # the others are replaced as they are reused
        pooled = context.connection.connection if context.connection is not None else None
        _drop(getattr(pooled, "driver_connection", None))

    @event.listens_for(engine.sync_engine, "close")
    def _closing(dbapi_connection: Any, record: Any) -> None:
        if record.info.get(OPENED_AT, math.inf) <= silent_since:
            _drop(getattr(dbapi_connection, "driver_connection", None))


def _drop(driver: asyncpg.Connection | None) -> None:
    """Close without a word to the server: what the pool then does to it returns at once."""
    if driver is not None:
        driver.terminate()
