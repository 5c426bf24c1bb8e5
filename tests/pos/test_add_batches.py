"""Adds that queue behind one in flight go in together: those to one order under one lock, in one
statement and one COMMIT; those to several orders ready at once in one unit that leaves out an order
held elsewhere. Each add still answers as if it ran alone. Real API calls, real locks held to queue
them."""

from __future__ import annotations

import asyncio
import re
import uuid
from contextlib import asynccontextmanager
from decimal import Decimal
from types import SimpleNamespace

from prometheus_client import REGISTRY
from sqlalchemy import text

from app import logs
from app.domain import money
from app.domain.coalescing import MAX_BATCH, Coalescer
from app.domain.pos import items, orders
from app.domain.pos.models import SaleOrder
from app.domain.uow import run_unit
from tests.invariants import assert_invariants
from tests.pos.conftest import CANCEL
from tests.races import row_lock_held, unit_held, wait_for_lock_waiters
from tests.sql_recorder import record_sql
from tests.taxes.helpers import tax_rate, taxed_product, taxed_service


async def queued(order_id: str, count: int, timeout: float = 10.0) -> None:
    """Return once `count` adds to the order wait in this process for the next batch."""

    async def poll() -> None:
        while items.adds_waiting(uuid.UUID(order_id)) < count:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


async def test_adds_queued_behind_one_in_flight_share_its_successor_s_lock_and_commit(db, pos):
    order = await pos.order()
    burger = await pos.product("Burger chew", "5.00")
    with record_sql(db.engine) as sql:
        async with row_lock_held(db, SaleOrder, uuid.UUID(order["id"])):
            first = asyncio.create_task(pos.add(order["id"], burger, 1))
            await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[first])
            rest = [asyncio.create_task(pos.add(order["id"], burger, 1)) for _ in range(5)]
            await queued(order["id"], 5)
            assert not first.done()
        results = [await first, *await asyncio.gather(*rest)]
    assert all(r["errors"] == [] for r in results)
    # Each add saw its own bump, and its payload's amounts and lines are the order's as its own add
    # left it: one state, though later adds had committed before its answer was written.
    versions = [r["order"]["version"] for r in results]
    assert sorted(versions) == list(range(2, 8))
    for result in results:
        units = result["order"]["version"] - 1
        assert Decimal(result["order"]["subtotal"]["amount"]) == Decimal("5.00") * units
        assert Decimal(result["order"]["total"]["amount"]) == Decimal("5.00") * units
        assert [(i["name"], i["quantity"], i["lineTotal"]["amount"]) for i in result["order"]["items"]] == [
            ("Burger chew", units, str(Decimal("5.00") * units))
        ]
    # The holder's lock; the first add's try for it, left out (the holder has it), then its own unit
    # waiting for it; then the five queued behind it, locked once and written in one statement.
    assert len(sql.locks("sale_orders")) == 1 + 1 + 1 + 1
    assert len(sql.writes()) == 2
    assert [(l.quantity, l.mode) for l in await pos.lines(order["id"])] == [(6, "STANDARD")]
    assert (await pos.row(order["id"])).version == 7
    await assert_invariants(db)


async def test_an_add_s_own_error_in_a_batch_leaves_the_others(db, pos):
    order = await pos.order()
    burger = await pos.product("Burger chew", "5.00")
    unknown = SimpleNamespace(id=uuid.uuid4())
    with record_sql(db.engine) as sql:
        async with row_lock_held(db, SaleOrder, uuid.UUID(order["id"])):
            first = asyncio.create_task(pos.add(order["id"], burger, 1))
            await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[first])
            batch = [asyncio.create_task(pos.add(order["id"], item, 2)) for item in (burger, unknown, burger)]
            await queued(order["id"], 3)
        results = [await first, *await asyncio.gather(*batch)]
    # The add statements: the first add; the batch's one (refused whole, at once); the three again,
    # taken together into one unit by the coalescer of units (refused whole); then each alone.
    # Each refusal costs no further statement under the lock (11 before).
    assert len([i for i in sql.writes() if "sale_order_items" in sql[i]]) == 1 + 1 + 1 + 3
    assert [r["errors"] for r in results] == [
        [],
        [],
        [{"code": "NOT_FOUND", "field": "itemId", "message": "Product not found"}],
        [],
    ]
    # The failed add bumped nothing: the others' versions run on without a gap.
    assert sorted(r["order"]["version"] for r in results if r["order"]) == [2, 3, 4]
    assert [(l.quantity, l.mode) for l in await pos.lines(order["id"])] == [(5, "STANDARD")]
    await assert_invariants(db)


async def test_a_batch_of_discounted_custom_adds_reads_its_prices_in_one_statement_per_item_type(db, pos):
    burger = await pos.product("Burger chew", "5.00")
    trim = await pos.service("Nail trim", "12.50")

    async def statements(count: int) -> int:
        order = await pos.order()
        with record_sql(db.engine) as sql:
            async with row_lock_held(db, SaleOrder, uuid.UUID(order["id"])):
                first = asyncio.create_task(pos.add(order["id"], burger, 1))
                await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[first])
                batch = [
                    asyncio.create_task(pos.add(order["id"], item, 1, mode="CUSTOM", discount="0.50"))
                    for item in [burger, trim] * count
                ]
                await queued(order["id"], 2 * count)
            answers = [await first, *await asyncio.gather(*batch)]
        assert all(a["errors"] == [] for a in answers), answers
        assert len(await pos.lines(order["id"])) == 1 + 2 * count
        return len([q for q in sql if re.search(r"SELECT (\w+\.id, )?\w+\.name, \w+\.price\b", q)])

    # One read of products and one of services for the batch (the undiscounted first add reads
    # nothing before its lock), however many adds.
    assert await statements(1) == await statements(4) == 2


async def test_a_batch_in_one_statement_answers_each_add_as_the_adds_one_by_one_would(db, pos):
    rate = await tax_rate(db, "8.25")
    taxed = await taxed_product(db, "SKU-TAXED", "3.35", rate)
    trim = await taxed_service(db, "Trim", "12.50", rate)
    ball, rope = await pos.product("Ball", "5.00"), await pos.product("Rope", "7.10")
    batched, one_by_one = await pos.order(), await pos.order()
    for order in (batched, one_by_one):  # before the batch: a STANDARD line it grows, a CUSTOM line
        await pos.add(order["id"], ball, 2)
        await pos.add(order["id"], taxed, 1, mode="CUSTOM", unitPrice="4.00", discount="0.50", note="gift")
    # Lines grown, lines new (one of them twice), a service, a CUSTOM line with a discount.
    adds = [
        (taxed, 1, {}),
        (ball, 3, {}),
        (rope, 1, {}),
        (trim, 1, {}),
        (rope, 2, {}),
        (taxed, 2, dict(mode="CUSTOM", unit_price=Decimal("2.00"), discount=Decimal("1.00"), note="x")),
        (taxed, 4, {}),
    ]

    def checked(order: dict) -> list[items.CheckedLine]:
        return [
            items.check_line(
                order_id=order["id"],
                item_type="SERVICE" if item is trim else "PRODUCT",
                item_id=str(item.id),
                quantity=quantity,
                **{"mode": "STANDARD", "unit_price": None, "discount": None, "note": None, **custom},
            )
            for item, quantity, custom in adds
        ]

    def unit(work):
        return run_unit(db.sessions, work, lock_timeout_ms=3000)

    with record_sql(db.engine) as sql:
        together = await unit(lambda uow: items.add_checked(uow, checked(batched)))
    assert len(sql.writes()) == 1
    alone = [(await unit(lambda uow: items.add_checked(uow, [line])))[0] for line in checked(one_by_one)]

    def seen(changed: items.ChangedOrder) -> tuple:
        # New lines made in one transaction are listed by their random ids: compare them as a set.
        return changed.version, changed.subtotal, sorted(zip(changed.line_totals, changed.rates))

    assert [seen(c) for c in together] == [seen(c) for c in alone]
    assert [c.version for c in together] == list(range(4, 4 + len(adds)))

    def kept(line) -> tuple:
        return line.item_type, line.item_id, line.mode, line.name, line.unit_price, line.quantity, line.note

    assert sorted(map(kept, await pos.lines(batched["id"]))) == sorted(
        map(kept, await pos.lines(one_by_one["id"]))
    )
    read = [await pos.read(order["id"]) for order in (batched, one_by_one)]
    assert read[0]["total"] == read[1]["total"] and read[0]["version"] == read[1]["version"]
    await assert_invariants(db)


async def test_a_batch_past_the_largest_total_leaves_out_only_an_add_that_crosses_it(db, pos):
    grooming = await pos.service("Full groom", "40.00")
    chew = await pos.product("Burger chew", "5.00")
    order = await pos.order_coming_to(grooming, str(money.MAX_AMOUNT - Decimal("10.00")))
    async with row_lock_held(db, SaleOrder, uuid.UUID(order["id"])):
        first = asyncio.create_task(pos.add(order["id"], chew, 1))
        await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[first])
        batch = [asyncio.create_task(pos.add(order["id"], chew, 1)) for _ in range(2)]
        await queued(order["id"], 2)
    results = [await first, *await asyncio.gather(*batch)]
    errors = [[(e["code"], e["field"]) for e in r["errors"]] for r in results]
    # The batch failed whole, so its two adds ran again each alone, at once: either may be the one refused.
    assert errors[0] == [] and sorted(errors[1:]) == [[], [("VALIDATION", "quantity")]]
    assert (await pos.read(order["id"]))["total"]["amount"] == str(money.MAX_AMOUNT)
    await assert_invariants(db)


@asynccontextmanager
async def adds_held_at_their_write(db, pos, order_id: str, item):
    """An add to `order_id` whose unit stays at its write (a table lock holds it) until the block
    ends: the adds fired meanwhile queue behind it for the next unit."""
    hold = "LOCK TABLE sale_order_items IN SHARE MODE"
    async with unit_held(db, lambda uow: uow.session.execute(text(hold))):
        first = asyncio.create_task(pos.add(order_id, item, 1))
        await wait_for_lock_waiters(db, 1, statement="^WITH priced AS", racers=[first])
        yield first


def unit_sizes() -> tuple[float, float]:
    """How many units of adds ran, and the orders they were for, in all (petpos_order_add_unit_orders)."""
    sample = REGISTRY.get_sample_value
    return sample("petpos_order_add_unit_orders_count") or 0, sample("petpos_order_add_unit_orders_sum") or 0


async def batches_queued(count: int, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while items.batches_waiting() < count:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


async def test_adds_to_several_orders_ready_together_go_in_one_unit_but_not_the_order_held_elsewhere(db, pos):
    chew = await pos.product("Burger chew", "5.00")
    first, free, held, other, cancelled = [await pos.order() for _ in range(5)]
    await pos.ok(CANCEL, {"o": cancelled["id"]})
    units_before = unit_sizes()
    with record_sql(db.engine) as sql:
        async with row_lock_held(db, SaleOrder, uuid.UUID(held["id"])):
            async with adds_held_at_their_write(db, pos, first["id"], chew) as first_add:
                rest = {
                    order["id"]: asyncio.create_task(pos.add(order["id"], chew, 2))
                    for order in (free, held, other, cancelled)
                }
                await batches_queued(4)
            answered = await asyncio.gather(
                first_add, rest[free["id"]], rest[other["id"]], rest[cancelled["id"]]
            )
            # The held order's add waits for its lock on its own; it held up none of the others.
            assert not rest[held["id"]].done()
        answered.append(await rest[held["id"]])
    assert [[e["code"] for e in r["errors"]] for r in answered] == [[], [], [], ["ORDER_NOT_EDITABLE"], []]
    assert [r["order"]["version"] for r in answered if r["order"]] == [2, 2, 2, 2]
    assert [r["order"]["total"]["amount"] for r in answered if r["order"]] == [
        "5.00",
        "10.00",
        "10.00",
        "10.00",
    ]
    # The first add's write; then the two free orders' adds in one statement; then the held order's.
    assert len(sql.writes()) == 3
    # On /metrics: a unit of one order's adds, then one of four orders' (two of them left out).
    assert [after - before for before, after in zip(units_before, unit_sizes(), strict=True)] == [2, 1 + 4]
    await assert_invariants(db)


async def test_an_add_s_own_error_in_a_unit_of_several_orders_leaves_the_others(db, pos):
    chew = await pos.product("Burger chew", "5.00")
    unknown = SimpleNamespace(id=uuid.uuid4())
    first, good, bad = [await pos.order() for _ in range(3)]
    async with adds_held_at_their_write(db, pos, first["id"], chew) as first_add:
        rest = [
            asyncio.create_task(pos.add(order["id"], item, 1))
            for order, item in ((good, chew), (bad, unknown))
        ]
        await batches_queued(2)
    answered = [await first_add, *await asyncio.gather(*rest)]
    assert [[e["code"] for e in r["errors"]] for r in answered] == [[], [], ["NOT_FOUND"]]
    assert [(l.quantity, l.mode) for l in await pos.lines(good["id"])] == [(1, "STANDARD")]
    assert await pos.lines(bad["id"]) == []
    await assert_invariants(db)


async def test_a_batch_the_order_refuses_answers_every_add_as_it_would_alone(db, pos):
    order = await pos.order()
    burger = await pos.product("Burger chew", "5.00")
    order_id = uuid.UUID(order["id"])
    async with unit_held(db, lambda uow: orders.cancel_order(uow, order_id=order_id)):
        first = asyncio.create_task(pos.add(order["id"], burger, 1))
        await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[first])
        rest = [asyncio.create_task(pos.add(order["id"], burger, 1)) for _ in range(3)]
        await queued(order["id"], 3)
    results = [await first, *await asyncio.gather(*rest)]
    assert [[e["code"] for e in r["errors"]] for r in results] == [["ORDER_NOT_EDITABLE"]] * 4
    assert await pos.lines(order["id"]) == []
    await assert_invariants(db)


# The coalescer's own rules, with a stand-in `run` that records its batches.


class Recorder:
    def __init__(self, fail_when=lambda items: None) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.fail_when = fail_when

    async def run(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        await self.release.wait()
        if (error := self.fail_when(items)) is not None:
            raise error
        return [item * 10 for item in items]


async def submit_queued(coalescer: Coalescer, recorder: Recorder, items: list[int]) -> list[asyncio.Task]:
    """The first item in flight, the rest queued behind it."""
    tasks = [asyncio.create_task(coalescer.submit("order", items[0], recorder.run))]
    while not recorder.batches:
        await asyncio.sleep(0)
    tasks += [asyncio.create_task(coalescer.submit("order", item, recorder.run)) for item in items[1:]]
    while coalescer.waiting("order") < len(items) - 1:
        await asyncio.sleep(0)
    return tasks


async def test_a_batch_that_fails_as_a_whole_answers_each_request_alone():
    coalescer: Coalescer[str, int, int] = Coalescer()
    recorder = Recorder(lambda items: ValueError("item 3") if 3 in items else None)
    tasks = await submit_queued(coalescer, recorder, [1, 2, 3, 4])
    recorder.release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert outcomes[:2] == [10, 20] and outcomes[3] == 40
    assert isinstance(outcomes[2], ValueError)
    assert recorder.batches == [[1], [2, 3, 4], [2], [3], [4]]


async def test_a_final_failure_is_every_request_s_without_a_rerun():
    coalescer: Coalescer[str, int, int] = Coalescer(final=lambda error: isinstance(error, TimeoutError))
    recorder = Recorder(lambda items: TimeoutError() if len(items) > 1 else None)
    tasks = await submit_queued(coalescer, recorder, [1, 2, 3])
    recorder.release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert outcomes[0] == 10 and all(isinstance(o, TimeoutError) for o in outcomes[1:])
    assert recorder.batches == [[1], [2, 3]]


def timing_out(*, shared_fate: bool) -> Coalescer[str, int, int]:
    return Coalescer(final=lambda error: isinstance(error, TimeoutError), shared_fate=shared_fate)


async def test_a_final_failure_is_also_the_answer_of_the_requests_queued_behind_it():
    """Adds queued behind a batch that waited out a lock held elsewhere got BUSY batch by batch,
    each batch waiting the whole retry budget again (70 adds: answers at 20, 40 and 60 s)."""
    coalescer = timing_out(shared_fate=True)
    recorder = Recorder(lambda items: TimeoutError())
    items = list(range(1, MAX_BATCH + 6))
    tasks = await submit_queued(coalescer, recorder, items)
    recorder.release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(outcome, TimeoutError) for outcome in outcomes)
    assert recorder.batches == [[1]]
    assert coalescer.waiting("order") == 0


async def test_without_a_shared_fate_the_requests_queued_behind_a_final_failure_still_run():
    """A key that is no one row (the adds to any order): the batch behind may well succeed."""
    coalescer = timing_out(shared_fate=False)
    recorder = Recorder(lambda items: TimeoutError() if items == [1] else None)
    tasks = await submit_queued(coalescer, recorder, [1, 2, 3])
    recorder.release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(outcomes[0], TimeoutError) and outcomes[1:] == [20, 30]


async def test_a_final_failure_of_one_item_run_alone_is_its_own_answer_only():
    """A batch that failed for one item's sake runs each alone; one of them meeting a final failure
    then answered every request with it, the others' committed adds included."""
    coalescer = timing_out(shared_fate=True)
    recorder = Recorder(
        lambda items: ValueError() if len(items) > 1 else TimeoutError() if items == [2] else None
    )
    tasks = await submit_queued(coalescer, recorder, [1, 2, 3, 4])
    recorder.release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert outcomes[0] == 10 and isinstance(outcomes[1], TimeoutError) and outcomes[2:] == [30, 40]
    assert recorder.batches == [[1], [2, 3, 4], [2], [3], [4]]


async def test_a_request_cancelled_while_it_waits_leaves_the_batch_to_the_others():
    coalescer: Coalescer[str, int, int] = Coalescer()
    recorder = Recorder()
    tasks = await submit_queued(coalescer, recorder, [1, 2, 3])
    tasks[0].cancel()
    tasks[1].cancel()
    recorder.release.set()
    assert await tasks[2] == 30
    assert recorder.batches == [[1], [2, 3]]
    assert coalescer.waiting("order") == 0


async def test_a_batch_takes_at_most_max_batch_requests():
    coalescer: Coalescer[str, int, int] = Coalescer()
    recorder = Recorder()
    items = list(range(MAX_BATCH + 6))
    tasks = await submit_queued(coalescer, recorder, items)
    recorder.release.set()
    assert await asyncio.gather(*tasks) == [item * 10 for item in items]
    assert recorder.batches == [[0], items[1 : MAX_BATCH + 1], items[MAX_BATCH + 1 :]]


async def test_a_batch_of_requests_that_are_several_each_holds_at_most_max_batch_in_all():
    coalescer: Coalescer[str, int, int] = Coalescer(size=lambda item: item)
    recorder = Recorder()
    items = [1, 20, 10, 5, 3, MAX_BATCH + 8, 2]
    tasks = await submit_queued(coalescer, recorder, items)
    recorder.release.set()
    assert await asyncio.gather(*tasks) == [item * 10 for item in items]
    # 20 + 10 + 5 would pass MAX_BATCH; one request larger than it still goes, alone.
    assert recorder.batches == [[1], [20, 10], [5, 3], [MAX_BATCH + 8], [2]]


async def test_a_batch_runs_in_no_one_request_s_context():
    """Its log lines would otherwise name the first request queued for the key, which the batch's
    later runs no longer serve (app/logs.py)."""
    coalescer: Coalescer[str, int, int] = Coalescer()
    seen: list[str | None] = []

    async def run(items: list[int]) -> list[int]:
        seen.append(logs.REQUEST_ID.get())
        return items

    async def submit_as(request_id: str) -> int:
        logs.REQUEST_ID.set(request_id)
        return await coalescer.submit("order", 1, run)

    assert await asyncio.gather(submit_as("req-A"), submit_as("req-B")) == [1, 1]
    assert seen and set(seen) == {None}
