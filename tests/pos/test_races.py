"""Races on one order, with real connections that commit. Interleavings are forced by
holding a unit open (events) and waiting until the other transaction is blocked on
the lock (pg_stat_activity), never by sleeping. One process sends the adds to an order through
its coalescer, one unit at a time, so adds race at the database as units of several processes do
(items.add_checked, each on its own connection)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app import metrics
from app.domain.errors import DomainError
from app.domain.pos import items, merge, orders
from app.domain.pos.models import SaleOrderItem
from app.domain.uow import UnitOfWork, run_unit
from tests.invariants import assert_invariants
from tests.pos.adds import (
    adding,
    assert_each_add_answers_as_if_alone,
    assert_one_line_of_the_sum,
    checked,
    line,
    queued_on_the_order,
)
from tests.pos.conftest import MERGE
from tests.races import start_unit, unit_held, wait_for_lock_waiters


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


async def test_forty_standard_adds_from_eight_processes_queued_on_the_order_make_one_line_of_the_sum(db, pos):
    """Eight processes each send a batch of five adds of one item to the same order at once (in one
    process the coalescer lets no more than one unit per order reach the database; across processes
    only the order lock orders them). All eight queue on the order row; once it is let go, each in
    turn finds the line the ones before it left and grows it."""
    order = await pos.order()
    burger = await pos.product("Burger chew")
    batches = [[checked(order["id"], burger, 1 + (b + i) % 5) for i in range(5)] for b in range(8)]
    answers = await queued_on_the_order(db, order["id"], batches)
    # Every add saw its own bump (forty versions after the creation's 1) and the lines before it.
    await assert_one_line_of_the_sum(pos, order["id"], batches, answers, burger)
    await assert_invariants(db)


async def test_forty_adds_at_once_in_one_process_are_coalesced_and_each_answers_its_own_version(pos):
    """In one process the API sends the adds to one order through a coalescer (items.add): one unit
    per order at a time, taking the adds that queued behind it together. So this proves what the
    batches answer (each add its own version, the exact sum), not the order lock: the eight-process
    race above does."""
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


async def assert_three_custom_lines_and_one_standard(pos, order_id: str) -> None:
    """What the five adds of the CUSTOM tests leave: each CUSTOM add a line with its own price,
    discount and note, the two STANDARD adds one line of their sum."""
    lines = await pos.lines(order_id)
    assert sorted((l.mode, str(l.unit_price), l.quantity, str(l.discount), l.note or "") for l in lines) == [
        ("CUSTOM", "4.00", 2, "1.00", "no onions"),
        ("CUSTOM", "5.00", 2, "0.00", ""),
        ("CUSTOM", "5.00", 2, "0.50", "extra crispy"),
        ("STANDARD", "5.00", 2, "0.00", ""),
    ]
    final = await pos.read(order_id)
    assert final["subtotal"]["amount"] == "38.00" and final["total"]["amount"] == "36.50"
    assert final["version"] == 6


async def test_custom_adds_queued_on_the_order_never_merge_and_each_keeps_its_price_discount_and_note(
    db, pos
):
    """Five processes add to one order at once, each its own unit queued on the order row: three
    CUSTOM lines of one item (each its own line, price, discount and note) and two STANDARD adds of
    it (one line of their sum)."""
    order = await pos.order()
    burger = await pos.product("Burger chew", "5.00")
    adds = [
        checked(order["id"], burger, 2, mode="CUSTOM", unit_price="4.00", discount="1.00", note="no onions"),
        checked(order["id"], burger, 2, mode="CUSTOM", discount="0.50", note="extra crispy"),
        checked(order["id"], burger, 2, mode="CUSTOM"),
        checked(order["id"], burger, 1),
        checked(order["id"], burger, 1),
    ]
    answers = await queued_on_the_order(db, order["id"], [[add] for add in adds])
    assert_each_add_answers_as_if_alone(
        [(add, answer) for add, [answer] in zip(adds, answers, strict=True)], {burger.id: burger.price}
    )
    await assert_three_custom_lines_and_one_standard(pos, order["id"])
    await assert_invariants(db)


async def test_custom_adds_at_once_in_one_process_are_coalesced_and_never_merge(pos):
    """The same adds through the API in one process: the coalescer takes them in batches (one unit
    per order at a time), so this proves the batch statement keeps each CUSTOM line apart with its
    own price, discount and note, not the order lock (the race above does)."""
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
    assert sorted(r["order"]["version"] for r in results) == list(range(2, 7))
    await assert_three_custom_lines_and_one_standard(pos, order["id"])


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


async def test_adds_ahead_of_a_merge_are_carried_into_the_target_those_behind_it_are_refused(db, pos):
    """A merge of the source queues behind a batch of adds in flight on it, and more adds from other
    processes queue behind the merge in flight. The batch lands and the merge, reading the lines
    once it has the lock, carries it into the target; the adds behind it find the source MERGED
    once they have the lock, are refused and write nothing. No add is lost.

    Each side is held open (the batch, then the merge) while the next queues behind it: of several
    waiters queued on a row that is then updated, PostgreSQL does not promise which goes first."""
    source, target = await pos.order("source"), await pos.order("target")
    source_id = uuid.UUID(source["id"])
    burger, trim = await pos.product("Burger chew"), await pos.service("Nail trim")
    await pos.add(source["id"], burger, 1)
    await pos.add(target["id"], burger, 1)
    early = [
        checked(source["id"], burger, 2),
        checked(source["id"], trim, 1, mode="CUSTOM", note="early"),
        checked(source["id"], burger, 3),
    ]
    late = [
        checked(source["id"], burger, 4),
        checked(source["id"], trim, 1, mode="CUSTOM", note="late"),
        checked(source["id"], trim, 2),
    ]
    merged, let_go = asyncio.Event(), asyncio.Event()

    async def merge_then_hold(uow: UnitOfWork):
        done = await merge.merge_orders(uow, target_id=uuid.UUID(target["id"]), source_ids=[source_id])

        async def hold() -> None:
            merged.set()
            await let_go.wait()

        uow.last(hold)
        return done

    try:
        async with unit_held(db, adding(early)) as landing:
            merging = start_unit(db, merge_then_hold)
            await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[merging])
            assert not merging.done()
        # The batch committed; the merge has its lock now: it merges and is held open.
        holding = asyncio.create_task(merged.wait())
        await asyncio.wait([merging, holding], return_when=asyncio.FIRST_COMPLETED)
        holding.cancel()
        assert merged.is_set(), merging.result()  # else the merge failed: its error is raised here
        refused = [start_unit(db, adding([add])) for add in late]
        await wait_for_lock_waiters(db, len(refused), table="sale_orders", racers=refused)
        assert not any(unit.done() for unit in refused)
    finally:
        let_go.set()
    assert [answer.version for answer in await landing] == [3, 4, 5]  # the source: created, one add
    await merging
    for unit in refused:
        with pytest.raises(DomainError) as caught:
            await unit
        assert (caught.value.code, caught.value.field) == ("ORDER_NOT_EDITABLE", "orderId")
    # Whatever landed on the source before the merge is in the target now; nothing else is anywhere.
    assert sorted((l.name, l.quantity, l.mode, l.note) for l in await pos.lines(target["id"])) == [
        ("Burger chew", 1 + 1 + 2 + 3, "STANDARD", None),
        ("Nail trim", 1, "CUSTOM", "early"),
    ]
    assert await pos.lines(source["id"]) == []
    row = await pos.row(source["id"])
    assert (row.status, row.merged_into_id, row.version) == ("MERGED", uuid.UUID(target["id"]), 6)
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

    with pytest.raises(IntegrityError) as caught:
        await run_unit(db.sessions, insert_duplicate, lock_timeout_ms=3000)
    assert "uq_sale_order_items_standard_line" in str(caught.value)
