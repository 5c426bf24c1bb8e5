"""Races on one order, with real connections that commit. Interleavings are forced by
holding a unit open (events) and waiting until the other transaction is blocked on
the lock (pg_locks), never by sleeping."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from sqlalchemy import text

from app import metrics
from app.domain.errors import DomainError
from app.domain.pos import items, merge, orders
from app.domain.pos.models import SaleOrderItem
from app.domain.uow import run_unit
from tests.invariants import assert_invariants
from tests.pos.conftest import MERGE
from tests.races import unit_held, wait_for_lock_waiters


def line(order_id: str, product, quantity: int) -> items.NewLine:
    return items.NewLine(
        order_id=uuid.UUID(order_id),
        item_type="PRODUCT",
        item_id=product.id,
        mode="STANDARD",
        name=product.name,
        unit_price=product.price,
        quantity=quantity,
        discount=product.price * 0,
        note=None,
    )


def retries() -> float:
    return sum(
        sample.value
        for family in metrics.LOCK_RETRIES.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
    )


async def test_two_tablets_adding_the_same_item_at_once_make_one_line_of_3(db, pos):
    order = await pos.order()
    burger = await pos.product("Burger chew")

    async def tablet_a(uow):
        locked = await orders.lock_order(uow, uuid.UUID(order["id"]))
        # Under the lock tablet A finds no burger line yet, and adds its own.
        assert (await uow.session.scalars(text("SELECT count(*) FROM sale_order_items"))).one() == 0
        return await items.add_line(uow, locked, line(order["id"], burger, 2))

    async with unit_held(db, tablet_a) as a:
        # Tablet B waits at the order row until A commits, then adds to A's line.
        b = asyncio.create_task(pos.add(order["id"], burger, 1))
        await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[b])
        assert not b.done()
    await a
    result = await b
    assert result["errors"] == []
    assert [(i["name"], i["quantity"], i["mode"]) for i in result["order"]["items"]] == [
        ("Burger chew", 3, "STANDARD")
    ]
    assert result["order"]["version"] == 3
    assert [(l.quantity, l.mode) for l in await pos.lines(order["id"])] == [(3, "STANDARD")]
    await assert_invariants(db)


async def test_forty_concurrent_standard_adds_make_one_line_with_the_exact_sum(pos):
    order = await pos.order()
    burger = await pos.product("Burger chew")
    quantities = [1 + i % 5 for i in range(40)]
    results = await asyncio.gather(*[pos.add(order["id"], burger, q) for q in quantities])
    assert all(r["errors"] == [] for r in results)
    # Every add saw its own bump: forty distinct versions after the creation's 1.
    assert sorted(r["order"]["version"] for r in results) == list(range(2, 42))
    lines = await pos.lines(order["id"])
    assert [(l.quantity, l.mode) for l in lines] == [(sum(quantities), "STANDARD")]
    assert (await pos.row(order["id"])).version == 1 + 40


async def test_custom_adds_never_merge_and_each_keeps_its_price_discount_and_note(pos):
    order = await pos.order()
    burger = await pos.product("Burger chew", "5.00")
    customs = [
        dict(mode="CUSTOM", unitPrice="4.00", discount="1.00", note="no onions"),
        dict(mode="CUSTOM", discount="0.50", note="extra crispy"),
        dict(mode="CUSTOM"),
    ]
    results = await asyncio.gather(
        *[pos.add(order["id"], burger, 2, **extra) for extra in customs],
        pos.add(order["id"], burger, 1),
        pos.add(order["id"], burger, 1),
    )
    assert all(r["errors"] == [] for r in results)
    lines = await pos.lines(order["id"])
    assert sorted((l.mode, str(l.unit_price), l.quantity, str(l.discount), l.note or "") for l in lines) == [
        ("CUSTOM", "4.00", 2, "1.00", "no onions"),
        ("CUSTOM", "5.00", 2, "0.00", ""),
        ("CUSTOM", "5.00", 2, "0.50", "extra crispy"),
        ("STANDARD", "5.00", 2, "0.00", ""),
    ]
    final = await pos.read(order["id"])
    assert final["subtotal"]["amount"] == "38.00" and final["total"]["amount"] == "36.50"
    assert final["version"] == 6


async def test_crossed_merges_one_wins_the_other_is_not_editable_and_nothing_deadlocks(db, pos):
    a, b = await pos.order("A"), await pos.order("B")
    burger, bowl = await pos.product("Burger chew"), await pos.product("Bowl")
    await pos.add(a["id"], burger, 2)
    await pos.add(a["id"], bowl, 1, mode="CUSTOM", note="blue")
    await pos.add(b["id"], burger, 3)
    before = retries()

    async def a_into_b(uow):
        return await merge.merge_orders(uow, target_id=uuid.UUID(b["id"]), source_ids=[uuid.UUID(a["id"])])

    async with unit_held(db, a_into_b) as first:
        second = asyncio.create_task(pos.call(MERGE, {"t": a["id"], "s": [b["id"]]}))
        # B into A waits for both rows, locked in id order.
        await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[second])
    await first
    refused = await second
    assert refused["order"] is None
    assert [e["code"] for e in refused["errors"]] == ["ORDER_NOT_EDITABLE"]
    assert retries() == before  # no deadlock, no retry, no BUSY
    assert (await pos.row(a["id"])).status == "MERGED" and (
        await pos.row(a["id"])
    ).merged_into_id == uuid.UUID(b["id"])
    assert sorted((l.name, l.quantity, l.mode) for l in await pos.lines(b["id"])) == [
        ("Bowl", 1, "CUSTOM"),
        ("Burger chew", 5, "STANDARD"),
    ]
    assert await pos.lines(a["id"]) == []
    await assert_invariants(db)


async def test_many_crossed_merges_at_once_conserve_quantities_without_deadlock_or_busy(db, pos):
    burger = await pos.product("Burger chew")
    pairs = []
    for _ in range(8):
        a, b = await pos.order("A"), await pos.order("B")
        await pos.add(a["id"], burger, 2)
        await pos.add(b["id"], burger, 3)
        pairs.append((a, b))
    before = retries()
    results = await asyncio.gather(
        *[pos.call(MERGE, {"t": t["id"], "s": [s["id"]]}) for a, b in pairs for t, s in ((a, b), (b, a))]
    )
    assert retries() == before
    for i, (a, b) in enumerate(pairs):
        outcomes = Counter(tuple(e["code"] for e in r["errors"]) for r in results[2 * i : 2 * i + 2])
        assert outcomes == Counter({(): 1, ("ORDER_NOT_EDITABLE",): 1})
        statuses = sorted([(await pos.row(a["id"])).status, (await pos.row(b["id"])).status])
        assert statuses == ["DRAFT", "MERGED"]
        quantities = [l.quantity for o in (a, b) for l in await pos.lines(o["id"])]
        assert quantities == [5]
    await assert_invariants(db)


async def test_an_add_holding_the_source_lock_lands_before_the_merge_and_is_carried_into_the_target(db, pos):
    source, target = await pos.order("source"), await pos.order("target")
    burger = await pos.product("Burger chew")
    await pos.add(target["id"], burger, 1)

    async with unit_held(db, lambda uow: items.add_item(uow, line(source["id"], burger, 4))) as add:
        merging = asyncio.create_task(pos.call(MERGE, {"t": target["id"], "s": [source["id"]]}))
        await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[merging])
    await add
    assert (await merging)["errors"] == []
    assert [l.quantity for l in await pos.lines(target["id"])] == [5]


async def test_an_add_waiting_behind_a_merge_of_its_order_is_not_editable_and_changes_nothing(db, pos):
    source, target = await pos.order("source"), await pos.order("target")
    burger = await pos.product("Burger chew")
    await pos.add(source["id"], burger, 2)

    async def merging_work(uow):
        return await merge.merge_orders(
            uow, target_id=uuid.UUID(target["id"]), source_ids=[uuid.UUID(source["id"])]
        )

    async with unit_held(db, merging_work) as merging:
        add = asyncio.create_task(pos.add(source["id"], burger, 7))
        await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[add])
    await merging
    refused = await add
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("ORDER_NOT_EDITABLE", "orderId")]
    assert [l.quantity for l in await pos.lines(target["id"])] == [2] and await pos.lines(source["id"]) == []


async def test_adds_racing_a_merge_either_land_before_it_or_are_refused_and_none_is_lost(db, pos):
    source, target = await pos.order("source"), await pos.order("target")
    burger, trim = await pos.product("Burger chew"), await pos.service("Nail trim")
    await pos.add(source["id"], burger, 1)
    await pos.add(target["id"], burger, 1)
    quantities = [1 + i % 3 for i in range(20)] + [1] * 5
    adds = [pos.add(source["id"], burger, q) for q in quantities[:20]]
    adds += [pos.add(source["id"], trim, 1, mode="CUSTOM") for _ in range(5)]
    results = await asyncio.gather(
        *adds[:12], pos.call(MERGE, {"t": target["id"], "s": [source["id"]]}), *adds[12:]
    )
    merged, added = results[12], results[:12] + results[13:]
    assert merged["errors"] == []
    landed = [q for q, r in zip(quantities, added) if r["errors"] == []]
    refused = [r for r in added if r["errors"]]
    assert all([e["code"] for e in r["errors"]] == ["ORDER_NOT_EDITABLE"] for r in refused)
    # Whatever landed on the source before the merge is in the target now; nothing else is anywhere.
    assert sum(l.quantity for l in await pos.lines(target["id"])) == 1 + 1 + sum(landed)
    assert await pos.lines(source["id"]) == []
    assert (await pos.row(source["id"])).status == "MERGED"
    await assert_invariants(db)


async def test_the_unique_standard_line_index_is_the_backstop_when_the_lock_is_bypassed(db, pos):
    """Even a writer that skipped the order lock could not make a second STANDARD line."""
    order = await pos.order()
    burger = await pos.product()
    await pos.add(order["id"], burger, 1)

    async def insert_duplicate(uow):
        uow.lock_free("skips the order lock on purpose, to prove the index is the backstop")
        uow.session.add(
            SaleOrderItem(
                order_id=uuid.UUID(order["id"]),
                item_type="PRODUCT",
                item_id=burger.id,
                mode="STANDARD",
                name="dup",
                unit_price=burger.price,
                quantity=1,
            )
        )
        await uow.session.flush()

    with pytest.raises(Exception) as caught:
        await run_unit(db.sessions, insert_duplicate, lock_timeout_ms=3000)
    assert "uq_sale_order_items_standard_line" in str(caught.value)
    assert not isinstance(caught.value, DomainError)
