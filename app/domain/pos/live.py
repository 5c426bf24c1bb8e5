"""Live order updates across server processes: every change NOTIFYs (inside its
transaction, so only committed changes are heard) and each server process LISTENs on
one dedicated connection, fanning notifications out to its own subscribers.

A subscriber holds a one-slot mailbox that keeps only the newest version announced:
a slow subscriber coalesces to "latest version" instead of queueing, so it never holds
up the listener, other subscribers or the mutations. Subscribers re-read the order
themselves, so skipping intermediate versions loses nothing.

The orders' feed owns the process's one LISTEN connection, so it carries the other channels too
(`also_listen`): users' changes (app/auth.py) and new mail (app/mail.py)."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
from sqlalchemy import ColumnElement, Text, cast, func
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.connectivity import CONNECT_TIMEOUT_SECONDS, LOST, close_or_drop, is_unavailable
from app.domain.errors import not_found
from app.domain.pos import views
from app.domain.pos.models import SaleOrder, SaleOrderItem
from app.settings import plain_url

log = logging.getLogger("petpos.live")

CHANNEL = "sale_order_updated"
# Each new LISTEN connection must hear a NOTIFY sent on this channel from another connection before
# it is trusted: through a transaction pooler (DATABASE_LISTEN_URL not a direct URL) it hears
# nothing, and the users it would keep could never be dropped when signed out.
CHECK_CHANNEL = "petpos_listen_check"
# Forces a re-read whatever the version: set after the listener lost its connection
# (notifications sent meanwhile were missed).
RESYNC = -1
# Every this many seconds the LISTEN connection makes a round trip, to learn that it still answers:
# one that a firewall or NAT dropped without a word would otherwise go on hearing nothing, for ever.
HEARTBEAT_SECONDS = 30.0


def notify(order_id: ColumnElement[Any], version: ColumnElement[Any]) -> ColumnElement[Any]:
    """The NOTIFY of an order's new version, as a column of the statement that wrote it; `parse`
    reads its payload."""
    payload = func.json_build_object("id", order_id, "version", version)
    return func.pg_notify(CHANNEL, cast(payload, Text)).label("announced")


def parse(raw: str) -> tuple[uuid.UUID, int] | None:
    try:
        data = json.loads(raw)
        return uuid.UUID(data["id"]), int(data["version"])
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring malformed %s payload %r", CHANNEL, raw)
        return None


class Mailbox:
    """One subscriber's bounded (one-slot) queue of "the order changed, newest version v"."""

    def __init__(self, order_id: uuid.UUID) -> None:
        self.order_id = order_id
        self._newest: int | None = None
        self._ready = asyncio.Event()

    def post(self, version: int) -> None:
        """Never blocks: the slot keeps the newest version (a resync wins over everything)."""
        if self._newest is None or version == RESYNC or (self._newest != RESYNC and version > self._newest):
            self._newest = version
        self._ready.set()

    async def next(self) -> int:
        await self._ready.wait()
        self._ready.clear()
        version, self._newest = self._newest, None
        assert version is not None
        return version


DEAF = (
    "the LISTEN connection heard no NOTIFY in time: DATABASE_LISTEN_URL must reach PostgreSQL directly, not "
    "through a transaction pooler; no live updates, and every request reads its user, until it does"
)


class Deaf(Exception):
    """A LISTEN connection that did not hear a NOTIFY sent to it: not a direct session."""


class OrderFeed:
    """The process's one LISTEN connection and its subscribers, by order id."""

    def __init__(
        self,
        url: str,
        *,
        answer_timeout: float = 5.0,
        heartbeat: float | None = None,
        reconnect_delay: float = 0.5,
    ) -> None:
        self.url = plain_url(url)  # asyncpg's own form
        self.answer_timeout = answer_timeout  # seconds a round trip may take before the connection is dropped
        self.heartbeat = heartbeat or HEARTBEAT_SECONDS
        self.reconnect_delay = reconnect_delay
        self._subscribers: dict[uuid.UUID, set[Mailbox]] = {}
        self._connection: asyncpg.Connection | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._stopping = False
        # Other channels heard on the same connection: (on each payload, on the connection up/down).
        self._also: dict[str, tuple[Callable[[str], None], Callable[[bool], None]]] = {}
        # The barrier callers join now (caught_up), and the lock that sends one at a time.
        self._joining: asyncio.Future[bool] | None = None
        self._barrier = asyncio.Lock()
        self._sending: set[asyncio.Task[None]] = set()  # held so the loop does not drop them

    def also_listen(
        self, channel: str, on_payload: Callable[[str], None], on_listening: Callable[[bool], None]
    ) -> None:
        """Hear `channel` too (register before start): `on_payload` gets each payload,
        `on_listening(False)` runs as soon as the connection is lost (what was heard may be stale
        from then on) and `on_listening(True)` once it LISTENs again."""
        self._also[channel] = (on_payload, on_listening)

    async def caught_up(self) -> bool:
        """Wait until every notification committed before this call has been heard (True), or say the
        connection is down (False). A round trip on the LISTEN connection is the barrier: PostgreSQL
        sends a listener its pending notifications before the answer to its next statement, and
        asyncpg runs their callbacks before the caller resumes. Callers arriving together share one
        round trip; one arriving while a round trip is out waits for the next."""
        joining = self._joining
        if joining is None:
            joining = self._joining = asyncio.get_running_loop().create_future()
            task = asyncio.create_task(self._send_barrier(joining), context=contextvars.Context())
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return await asyncio.shield(joining)

    async def _send_barrier(self, done: asyncio.Future[bool]) -> None:
        async with self._barrier:
            self._joining = None  # whoever arrives from now on needs the next round trip
            connection, heard = self._connection, False
            try:
                heard = connection is not None and await connection.fetchval("SELECT true") is True
            except (TimeoutError, *LOST):
                # Unanswered (the connection's command_timeout: gone silent) or lost: dropped and
                # reported lost here, so the keeper reconnects at once and every subscriber re-reads
                # (the waiters read the user afresh). asyncpg does not always report it: a connection
                # ended under a statement can fail as InternalClientError, closed, its termination
                # listener never called.
                if connection is not None:
                    connection.terminate()
                    self._on_lost(connection)
            finally:
                done.set_result(heard)  # also if cancelled: nobody waits for ever

    async def start(self) -> None:
        try:
            await self._connect()
        except LOST:
            # The database is down as this process starts (a worker replaced during a restart):
            # serve anyway, and listen once it is back.
            log.warning("cannot LISTEN yet; retrying in the background")
            self._lost.set()
        except Deaf:
            log.error(DEAF)  # the keeper tries again at its first heartbeat, finding no connection
        self._keeper = asyncio.create_task(self._keep_connected(), name="order-feed")

    async def stop(self) -> None:
        self._stopping = True
        if self._keeper is not None:
            self._keeper.cancel()
            try:
                await self._keeper
            except asyncio.CancelledError:
                pass
        if self._connection is not None and not self._connection.is_closed():
            await close_or_drop(self._connection, self.answer_timeout)

    def subscribe(self, order_id: uuid.UUID) -> Mailbox:
        box = Mailbox(order_id)
        self._subscribers.setdefault(order_id, set()).add(box)
        return box

    def unsubscribe(self, box: Mailbox) -> None:
        boxes = self._subscribers.get(box.order_id)
        if boxes is not None:
            boxes.discard(box)
            if not boxes:
                del self._subscribers[box.order_id]

    def subscriber_count(self) -> int:
        """Read by the tests: a subscription that ended leaves no mailbox behind."""
        return sum(len(boxes) for boxes in self._subscribers.values())

    async def _connect(self) -> None:
        connection = await asyncpg.connect(
            self.url, timeout=CONNECT_TIMEOUT_SECONDS, command_timeout=self.answer_timeout
        )
        try:
            await self._hears(connection)
            await connection.add_listener(CHANNEL, self._on_notification)
            for channel, (on_payload, _) in self._also.items():
                await connection.add_listener(channel, lambda _c, _p, _ch, raw, hear=on_payload: hear(raw))
        except BaseException:
            connection.terminate()
            raise
        connection.add_termination_listener(self._on_lost)
        self._connection = connection
        if connection.is_closed():  # lost before the listener was there to hear it
            self._on_lost(connection)
        for _, on_listening in self._also.values():
            on_listening(True)

    async def _hears(self, connection: asyncpg.Connection) -> None:
        """A NOTIFY from a connection of its own reaches `connection`, or Deaf."""
        nonce, heard = uuid.uuid4().hex, asyncio.Event()

        def check(_c: object, _p: object, _ch: object, raw: str) -> None:
            if raw == nonce:
                heard.set()

        await connection.add_listener(CHECK_CHANNEL, check)
        sender = await asyncpg.connect(
            self.url, timeout=CONNECT_TIMEOUT_SECONDS, command_timeout=self.answer_timeout
        )
        try:
            await sender.execute(f"NOTIFY {CHECK_CHANNEL}, '{nonce}'")
        finally:
            await close_or_drop(sender, self.answer_timeout)
        try:  # a direct connection hears it in milliseconds; the wait allows for a loaded server
            await asyncio.wait_for(heard.wait(), max(self.answer_timeout, CONNECT_TIMEOUT_SECONDS))
        except TimeoutError:
            raise Deaf() from None
        await connection.remove_listener(CHECK_CHANNEL, check)

    def _on_lost(self, connection: asyncpg.Connection) -> None:
        if connection is not self._connection:
            return  # one already replaced (a loss is reported by its listener and by a failed barrier)
        for _, on_listening in self._also.values():
            on_listening(False)
        self._lost.set()

    def _on_notification(self, connection: asyncpg.Connection, pid: int, channel: str, raw: str) -> None:
        parsed = parse(raw)
        if parsed is None:
            return
        order_id, version = parsed
        for box in self._subscribers.get(order_id, ()):
            box.post(version)

    async def _keep_connected(self) -> None:
        """Reconnect after losing the connection, then have every subscriber re-read:
        whatever was announced meanwhile was missed."""
        while not self._stopping:
            try:
                await asyncio.wait_for(self._lost.wait(), self.heartbeat)
            except TimeoutError:
                await self.caught_up()  # a connection that stays silent is dropped
                if self._connection is None or self._connection.is_closed():
                    self._lost.set()
                continue
            self._lost.clear()
            self._connection = None  # a late report of its loss is not a loss of the next one
            log.warning("LISTEN connection lost; reconnecting")
            while not self._stopping:
                try:
                    await self._connect()
                    break
                except LOST:
                    await asyncio.sleep(self.reconnect_delay)
                except Deaf:
                    log.error(DEAF)
                    await asyncio.sleep(self.heartbeat)
            for boxes in self._subscribers.values():
                for box in boxes:
                    box.post(RESYNC)


Reader = Callable[[], AbstractAsyncContextManager[AsyncSession]]


async def snapshots(
    feed: OrderFeed, read: Reader, order_id: uuid.UUID, *, read_primary: Reader | None = None
) -> AsyncIterator[tuple[SaleOrder, list[SaleOrderItem]]]:
    """The order as it is now, then again after every announced change, re-read without
    locks (order and lines in one statement), in version order: an announcement of a
    version already shown is skipped without a read. Ends once the order can no longer
    change (checked out, merged or cancelled).

    `read` may be a replica, which can lag behind the announcement it heard from the
    primary: a read older than the version announced is repeated on `read_primary`. The first
    read, and one after the LISTEN connection was lost, have no version to check a replica
    against: they read `read_primary`."""
    box = feed.subscribe(order_id)  # before the first read, so no change falls in between
    try:
        shown, announced = 0, 0
        while True:
            unknown = announced in (0, RESYNC)
            snapshot = await _read(read_primary if unknown and read_primary else read, order_id)
            if snapshot is not None and snapshot[0].version < announced and read_primary is not None:
                snapshot = await _read(read_primary, order_id)
            if snapshot is None:
                raise not_found("Sale order", "orderId")
            order, lines = snapshot
            if order.version > shown:
                shown = order.version
                yield order, lines
            if order.status != "DRAFT":
                return
            announced = await box.next()
            while announced != RESYNC and announced <= shown:
                announced = await box.next()
    finally:
        feed.unsubscribe(box)


async def _read(read: Reader, order_id: uuid.UUID) -> tuple[SaleOrder, list[SaleOrderItem]] | None:
    """While the database cannot be reached the read is tried again, every two seconds at most,
    rather than end the stream, which a client takes for the order's end."""
    delay = 0.1
    while True:
        try:
            async with read() as session:
                return await views.order_with_items(session, order_id)
        except Exception as error:
            if not is_unavailable(error):
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 2.0)
