"""The order races hold behind PgBouncer in transaction pooling mode (three server connections
shared by every client): the row lock is taken and held inside one transaction, so it serialises
the same way whichever server connection each transaction lands on."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from app.db.engine import Database
from app.domain.pos import items, orders
from app.main import create_app
from tests.conftest import GraphQLClient, make_settings
from tests.invariants import assert_invariants
from tests.pgbouncer import pgbouncer
from tests.pos.adds import assert_one_line_of_the_sum, checked, line, queued_on_the_order
from tests.pos.conftest import Pos
from tests.races import unit_held, wait_for_lock_waiters


@pytest.fixture(scope="module")
def bouncer_url(database_url):
    with pgbouncer(database_url) as url:
        yield url


@pytest.fixture
async def bounced(database_url, bouncer_url, users):
    """A staff tablet on an app whose every connection goes through PgBouncer, and its Database."""
    settings = make_settings(
        bouncer_url, database_transaction_pooler=True, database_listen_url=database_url, pool_size=10
    )
    db = Database(settings)
    _, token = await users.signed_in("STAFF")
    transport = httpx.ASGITransport(app=create_app(settings, db))
    async with httpx.AsyncClient(transport=transport, base_url="http://petpos.test") as client:
        try:
            yield Pos(db, GraphQLClient(client), token)
        finally:
            await db.dispose()


async def test_an_add_waits_for_the_order_lock_held_through_pgbouncer_then_adds_to_the_same_line(bounced):
    pos = bounced
    order = await pos.order()
    burger = await pos.product("Burger chew")

    async def tablet_a(uow):
        locked = await orders.lock_order(uow, uuid.UUID(order["id"]))
        return await items.add_line(uow, locked, line(order["id"], burger, 2))

    async with unit_held(pos.db, tablet_a) as a:
        b = asyncio.create_task(pos.add(order["id"], burger, 1))
        await wait_for_lock_waiters(pos.db, 1, table="sale_orders", racers=[b])
        assert not b.done()
    await a
    result = await b
    assert result["errors"] == []
    assert [(i["quantity"], i["mode"]) for i in result["order"]["items"]] == [(3, "STANDARD")]
    assert result["order"]["version"] == 3
    await assert_invariants(pos.db)


async def test_batches_of_adds_queued_through_pgbouncer_each_bump_the_version_once(db, bounced):
    """Two processes' batches of twenty adds each queue on the order row behind a transaction that
    holds it, all three through PgBouncer: its three server connections are theirs (the waiters are
    counted on a direct connection, `db`). Each batch gets the lock in turn, on whichever server
    connection, and sees the lines and the version the ones before it left."""
    pos = bounced
    order = await pos.order()
    burger = await pos.product("Burger chew")
    batches = [[checked(order["id"], burger, 1 + (b + i) % 5) for i in range(20)] for b in range(2)]
    answers = await queued_on_the_order(pos.db, order["id"], batches, watched=db)
    await assert_one_line_of_the_sum(pos, order["id"], batches, answers, burger)
    await assert_invariants(pos.db)


async def test_forty_adds_at_once_through_pgbouncer_are_coalesced_and_each_answers_its_own_version(bounced):
    """Through the API in one process the adds to one order go through its coalescer, one unit at a
    time: this proves the batched add statement runs through transaction pooling and answers each
    add its own version, not the order lock (the race above does)."""
    pos = bounced
    order = await pos.order()
    burger = await pos.product("Burger chew")
    quantities = [1 + i % 5 for i in range(40)]
    results = await asyncio.gather(*[pos.add(order["id"], burger, q) for q in quantities])
    assert all(r["errors"] == [] for r in results)
    assert sorted(r["order"]["version"] for r in results) == list(range(2, 42))
    assert [(l.quantity, l.mode) for l in await pos.lines(order["id"])] == [(sum(quantities), "STANDARD")]
    await assert_invariants(pos.db)
