"""The LISTEN feed of one server process, against the real database: only committed
changes are heard, subscribers see versions in order, a slow subscriber coalesces
instead of holding anything up, and a lost LISTEN connection is replaced."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest
from sqlalchemy import text

from app.domain.pos import items, live, orders
from app.domain.pos.live import RESYNC, Mailbox, OrderFeed
from app.domain.uow import run_unit
from app.settings import plain_url
from tests.pgbouncer import pgbouncer
from tests.pos.adds import line
from tests.pos.conftest import MERGE, SPLIT
from tests.sql_recorder import record_sql


async def add(db, order_id, product, quantity: int = 1):
    return await run_unit(
        db.sessions, lambda uow: items.add_item(uow, line(order_id, product, quantity)), lock_timeout_ms=3000
    )


@pytest.fixture
async def feed(settings):
    started = OrderFeed(settings.database_url, reconnect_delay=0.05)
    await started.start()
    yield started
    await started.stop()


class Heard:
    """A plain LISTEN connection recording every payload PostgreSQL delivers."""

    def __init__(self) -> None:
        self.payloads: list[dict] = []
        self.arrived = asyncio.Event()

    def __call__(self, connection, pid, channel, payload) -> None:
        self.payloads.append(json.loads(payload))
        self.arrived.set()

    async def until(self, count: int) -> list[dict]:
        while len(self.payloads) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 10)
        return self.payloads

    async def until_seen(self, versions: set[tuple[str, int]]) -> None:
        """Until every (order id, version) has been announced: a NOTIFY arrives after its COMMIT."""
        while not versions <= {(p["id"], p["version"]) for p in self.payloads}:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 10)


@pytest.fixture
async def heard(settings):
    connection = await asyncpg.connect(plain_url(settings.database_url))
    recorder = Heard()
    await connection.add_listener(live.CHANNEL, recorder)
    yield recorder
    await connection.close()


async def test_a_mailbox_keeps_only_the_newest_version_and_a_resync_wins():
    box = Mailbox(uuid.uuid4())
    for version in (2, 3, 5, 4):
        box.post(version)
    assert await box.next() == 5
    box.post(7)
    box.post(RESYNC)
    box.post(9)
    assert await box.next() == RESYNC


async def test_only_committed_changes_are_announced_and_in_commit_order(db, pos, heard):
    order = await pos.order()
    burger = await pos.product()

    async def add_then_fail(uow):
        await items.add_item(uow, line(order["id"], burger, 5))  # NOTIFY sent inside the unit ...
        raise RuntimeError("the till crashed before commit")  # ... and rolled back with it

    await add(db, order["id"], burger)
    with pytest.raises(RuntimeError):
        await run_unit(db.sessions, add_then_fail, lock_timeout_ms=3000)
    await add(db, order["id"], burger, 2)
    await run_unit(
        db.sessions,
        lambda uow: orders.cancel_order(uow, order_id=uuid.UUID(order["id"])),
        lock_timeout_ms=3000,
    )
    # PostgreSQL delivers in commit order: had the rolled-back NOTIFY leaked, it would be here.
    assert await heard.until(3) == [{"id": order["id"], "version": v} for v in (2, 3, 4)]
    assert [l.quantity for l in await pos.lines(order["id"])] == [3]


async def test_a_subscriber_sees_the_order_now_then_each_change_in_version_order_until_it_is_final(
    db, pos, feed
):
    order = await pos.order()
    burger = await pos.product()
    await add(db, order["id"], burger)
    stream = live.snapshots(feed, db.read, uuid.UUID(order["id"]))
    first, lines = await anext(stream)
    assert (first.version, [l.quantity for l in lines]) == (2, [1])
    seen = []
    for quantity in (2, 3):
        await add(db, order["id"], burger, quantity)
        changed, lines = await anext(stream)
        seen.append((changed.version, lines[0].quantity))
    await run_unit(
        db.sessions,
        lambda uow: orders.cancel_order(uow, order_id=uuid.UUID(order["id"])),
        lock_timeout_ms=3000,
    )
    final, _ = await anext(stream)
    assert seen == [(3, 3), (4, 6)] and (final.version, final.status) == (5, "CANCELLED")
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert feed.subscriber_count() == 0


async def test_a_slow_subscriber_coalesces_and_holds_up_neither_mutations_nor_other_subscribers(
    db, pos, feed
):
    order = await pos.order()
    burger = await pos.product()
    slow = feed.subscribe(uuid.UUID(order["id"]))  # never reads while the changes go on
    fast = live.snapshots(feed, db.read, uuid.UUID(order["id"]))
    assert (await anext(fast))[0].version == 1
    versions = []
    for _ in range(30):
        await add(db, order["id"], burger)
        while not versions or versions[-1] < (await pos.row(order["id"])).version:
            versions.append((await anext(fast))[0].version)
    assert versions == sorted(set(versions)) and versions[-1] == 31
    # The slow one kept one slot: the newest version, nothing queued behind it.
    assert await slow.next() == 31
    feed.unsubscribe(slow)
    await fast.aclose()


async def test_a_lost_listen_connection_is_replaced_and_subscribers_re_read(db, pos, feed):
    order = await pos.order()
    burger = await pos.product()
    box = feed.subscribe(uuid.UUID(order["id"]))
    async with db.engine.connect() as connection:
        await connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")
        )
    assert await asyncio.wait_for(box.next(), 10) == RESYNC  # after reconnecting
    await add(db, order["id"], burger)
    assert await asyncio.wait_for(box.next(), 10) == 2
    feed.unsubscribe(box)


async def test_a_listen_connection_ended_under_a_barrier_is_replaced_at_once(db, pos, feed):
    """Ended while a barrier's round trip is out, asyncpg can fail it as InternalClientError without
    calling the termination listener: the barrier reports the loss itself, so the feed reconnects
    now, not at the next heartbeat (30 s away) while its subscribers hear nothing."""
    order = await pos.order()
    box = feed.subscribe(uuid.UUID(order["id"]))
    stop = asyncio.Event()

    async def barriers() -> None:
        while not stop.is_set():
            await feed.caught_up()
            await asyncio.sleep(0)

    running = asyncio.create_task(barriers())
    try:
        for _ in range(20):  # the failure comes on about one ending in four
            async with db.engine.connect() as connection:
                await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE query LIKE 'LISTEN%' OR query = 'SELECT true'"
                    )
                )
            assert await asyncio.wait_for(box.next(), 5) == RESYNC
    finally:
        stop.set()
        await running
        feed.unsubscribe(box)


async def test_a_read_replica_lagging_behind_the_announcement_is_read_again_on_the_primary(db, pos, feed):
    from contextlib import asynccontextmanager

    from sqlalchemy.ext.asyncio import AsyncSession

    order = await pos.order()
    burger = await pos.product()
    # A "replica" stuck at the order's first version: a repeatable-read snapshot taken now.
    connection = await db.engine.connect()
    try:
        await connection.execution_options(isolation_level="REPEATABLE READ")
        await connection.begin()
        await connection.execute(text("SELECT version FROM sale_orders"))
        lagging = AsyncSession(bind=connection)

        @asynccontextmanager
        async def replica():
            yield lagging

        stream = live.snapshots(feed, replica, uuid.UUID(order["id"]), read_primary=db.sessions)
        assert (await anext(stream))[0].version == 1
        await add(db, order["id"], burger, 3)
        changed, lines = await asyncio.wait_for(anext(stream), 10)
        assert (changed.version, [l.quantity for l in lines]) == (2, [3])
        await stream.aclose()
    finally:
        await connection.close()


async def test_a_read_that_cannot_reach_the_database_is_tried_again_not_the_stream_ended(db, pos, feed):
    from contextlib import asynccontextmanager

    from app.db.connectivity import DatabaseUnavailable

    order = await pos.order()
    failures = 2

    @asynccontextmanager
    async def flaky():
        nonlocal failures
        if failures:
            failures -= 1
            raise DatabaseUnavailable()
        async with db.read() as session:
            yield session

    stream = live.snapshots(feed, flaky, uuid.UUID(order["id"]))
    first, _ = await asyncio.wait_for(anext(stream), 10)
    assert (first.version, failures) == (1, 0)
    await stream.aclose()


async def test_the_first_read_is_on_the_primary_where_a_replica_may_lag(db, pos, feed):
    from contextlib import asynccontextmanager

    order = await pos.order()
    burger = await pos.product()
    replica_reads = 0

    @asynccontextmanager
    async def replica():  # would show whatever it holds; the first read must not come here
        nonlocal replica_reads
        replica_reads += 1
        async with db.read() as session:
            yield session

    await add(db, order["id"], burger, 2)
    stream = live.snapshots(feed, replica, uuid.UUID(order["id"]), read_primary=db.sessions)
    assert (await anext(stream))[0].version == 2
    assert replica_reads == 0
    await add(db, order["id"], burger, 1)
    assert (await asyncio.wait_for(anext(stream), 10))[0].version == 3
    assert replica_reads == 1  # an announced change: the replica, checked against its version
    await stream.aclose()


async def test_a_merge_and_a_split_announce_every_order_they_change_with_no_statement_per_order(
    db, pos, heard
):
    burger = await pos.product()
    counts = []
    for sources in (1, 4):
        target = await pos.order("T")
        merged = [await pos.order(f"S{i}") for i in range(sources)]
        for order in merged:
            await pos.add(order["id"], burger, 1)
        await heard.until_seen({(order["id"], 2) for order in merged})  # the adds', not the merge's
        heard.payloads.clear()
        with record_sql(db.engine) as sql:
            await pos.ok(MERGE, {"t": target["id"], "s": [o["id"] for o in merged]})
        counts.append(sql.count())
        announced = await heard.until(1 + sources)
        assert sorted((p["id"], p["version"]) for p in announced) == sorted(
            [(target["id"], 2)] + [(o["id"], 3) for o in merged]
        )
    assert counts[0] == counts[1]

    heard.payloads.clear()
    line_id = (await pos.read(target["id"]))["items"][0]["id"]
    result = await pos.ok(SPLIT, {"o": target["id"], "items": [{"itemId": line_id, "quantity": 1}]})
    source, created = result["source"], result["created"]
    assert sorted((p["id"], p["version"]) for p in await heard.until(2)) == sorted(
        [(source["id"], source["version"]), (created["id"], created["version"])]
    )


async def test_a_listen_connection_that_hears_nothing_is_never_trusted(database_url, caplog):
    """Through a transaction pooler LISTEN hears nothing: a process kept signed-in users it was
    never told were signed out. The feed checks that a NOTIFY from another connection reaches it,
    says why not, and never tells its channels it listens (so nothing is kept)."""
    with pgbouncer(database_url) as pooled:
        feed = OrderFeed(pooled, answer_timeout=1.0)
        said: list[bool] = []
        feed.also_listen("users_changed_probe", lambda raw: None, said.append)
        await feed.start()
        try:
            assert said == []
            assert await feed.caught_up() is False
            assert live.DEAF in caplog.text
        finally:
            await feed.stop()
    direct = OrderFeed(database_url, answer_timeout=1.0)
    direct.also_listen("users_changed_probe", lambda raw: None, said.append)
    await direct.start()
    try:
        assert said == [True] and await direct.caught_up() is True
    finally:
        await direct.stop()
