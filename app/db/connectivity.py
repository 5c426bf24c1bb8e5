"""Losing the database: which errors mean it is unreachable, and a pool that never hands out a
connection the server already closed.

While PostgreSQL is down, restarting or dropping connections, a request fails fast with
`DatabaseUnavailable` (the API answers it 503 UNAVAILABLE), and once it is back the next
checkout opens a fresh connection, so no request fails on a connection that died meanwhile."""

from __future__ import annotations

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
# A server that does not answer at all (a host down, a dropped route): give up connecting after this
# many seconds rather than asyncpg's 60, so the request is answered UNAVAILABLE soon.
CONNECT_TIMEOUT_SECONDS = 5


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
    if isinstance(state, str) and (state.startswith("08") or state in SERVER_GOING_AWAY):
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


async def close_or_drop(connection: asyncpg.Connection, within: float) -> None:
    """Close a connection of asyncpg's own (a LISTEN connection) politely if the server answers
    `within` seconds; else drop it, as one gone silent would never answer."""
    try:
        await connection.close(timeout=within)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        connection.terminate()


def watch_connections(engine: AsyncEngine, *, statement_timeout: float | None = None) -> None:
    """Connecting gives up after CONNECT_TIMEOUT_SECONDS. At checkout, a pooled connection whose
    socket the server closed (a restart, a terminated backend) is dropped and another one made,
    at no cost to a live one: asyncpg already knows the connection is closed. SQLAlchemy's
    documented pessimistic disconnect handling, without pre-ping's round trip on every checkout.

    A statement still unanswered after `statement_timeout` seconds (None: no limit) is abandoned
    with TimeoutError and its connection dropped unused: a server, or a network path, gone silent
    says nothing at all, and this is how a request learns that the database is unreachable."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        cparams.setdefault("timeout", CONNECT_TIMEOUT_SECONDS)
        if statement_timeout is not None:
            cparams.setdefault("command_timeout", statement_timeout)

    @event.listens_for(engine.sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and driver.is_closed():
            raise DisconnectionError("connection closed by the server")

    @event.listens_for(engine.sync_engine, "handle_error")
    def _timed_out(context: Any) -> None:
        if not isinstance(context.original_exception, TimeoutError):
            return
        # Dropped at once, neither rolled back nor closed politely: either would wait on the silence.
        # So is every connection pooled before it: they are likely silent too (a dropped route, a
        # stopped server), and each would cost a request the same wait.
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = True
        pooled = context.connection.connection if context.connection is not None else None
        driver = getattr(pooled, "driver_connection", None)
        if driver is not None:
            driver.terminate()
