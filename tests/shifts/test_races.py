"""Races on the cash drawer, forced with real connections (tests/races.py): cash sales hold the
shift FOR SHARE, so they do not queue on each other, while a close (FOR UPDATE) waits for those in
flight, and the sales that come after it queue behind it (the drawer's turn,
app/domain/shifts/turns.py) and find it CLOSED; two tablets opening one register leave one shift
OPEN."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from app.domain.catalog.models import Product
from app.domain.sales.tenders import share_open_shift
from app.domain.shifts import service
from app.domain.shifts.totals import totals_of
from tests.races import row_lock_held, unit_held, wait_for_lock_waiters
from tests.shifts.drawer import OPEN, PAY, REFUND, close_shift, open_shift, order_of, payment, read_shift

# A close or a movement waiting for its turn at the drawer, and a sale or refund waiting for its
# shared turn (in the statement that finds the register's OPEN shift).
WHOLE_TURN = r"\mpg_advisory_xact_lock\("
SHARED_TURN = r"\mpg_advisory_xact_lock_shared\("


def cash(order_id: str) -> dict:
    return payment(order_id, paymentMethod="CASH", amountTendered="20.00", register="front")


async def test_a_close_counts_the_sales_in_flight_and_the_sales_behind_it_find_it_closed(db, pos):
    kibble = await pos.product("Kibble", "12.00", stock=100)
    shift = await open_shift(pos, "front", "100.00")
    orders = [await order_of(pos, kibble) for _ in range(10)]
    async with row_lock_held(db, Product, kibble.id):
        # Five sales take the drawer FOR SHARE, then queue on the product.
        early = [asyncio.create_task(pos.call(PAY, cash(o))) for o in orders[:5]]
        await wait_for_lock_waiters(db, 5, table="products", racers=early)
        # The close waits for its turn at the drawer behind them ...
        closing = asyncio.create_task(close_shift(pos, shift["id"], "150.00"))
        await wait_for_lock_waiters(db, 1, statement=WHOLE_TURN, racers=[closing])
        # ... and five more sales arrive while it waits: they queue behind the close instead of
        # joining the sales in flight (as a FOR SHARE row lock alone would let them, leaving the
        # close to wait as long as sales keep overlapping).
        late = [asyncio.create_task(pos.call(PAY, cash(o))) for o in orders[5:]]
        await wait_for_lock_waiters(db, 5, statement=SHARED_TURN, racers=[*early, closing, *late])
    sales = await asyncio.gather(*early)
    closed = await closing
    behind = await asyncio.gather(*late)

    assert closed["errors"] == [], closed
    assert [s["errors"] for s in sales] == [[]] * 5  # every sale in flight was waited for
    assert all(s["sale"]["shift"]["id"] == shift["id"] for s in sales)
    assert [[(e["code"], e["field"]) for e in s["errors"]] for s in behind] == [
        [("SHIFT_NOT_OPEN", "register")]
    ] * 5
    assert [(await pos.row(o)).status for o in orders[5:]] == ["DRAFT"] * 5
    # What the shift holds, summed afresh now that everything has committed, is what was frozen.
    async with db.read() as session:
        totals = (await totals_of(session, [uuid.UUID(shift["id"])]))[uuid.UUID(shift["id"])]
    expected = totals.expected(Decimal("100.00"))
    assert totals.sales_count == 5 and totals.cash_sales == 12 * 5
    frozen = closed["shift"]
    assert Decimal(frozen["expectedCash"]["amount"]) == expected
    assert Decimal(frozen["overShort"]["amount"]) == Decimal("150.00") - expected
    assert await read_shift(pos, shift["id"]) == frozen


async def test_a_sale_behind_a_close_that_has_the_drawer_finds_it_closed_and_changes_nothing(db, pos, users):
    kibble = await pos.product("Kibble", "12.00", stock=10)
    shift = await open_shift(pos, "front", "100.00")
    staff, _ = await users.signed_in("STAFF")
    order = await order_of(pos, kibble)
    closing = service.close_shift
    # The close has the drawer's turn, the shift FOR UPDATE and has written CLOSED, not yet
    # committed: the sale still reads the shift as OPEN, then waits for its turn.
    async with unit_held(
        db, lambda uow: closing(uow, uuid.UUID(shift["id"]), Decimal("100.00"), by=staff.id)
    ):
        sale = asyncio.create_task(pos.call(PAY, cash(order)))
        await wait_for_lock_waiters(db, 1, statement=SHARED_TURN, racers=[sale])
    refused = await sale
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("SHIFT_NOT_OPEN", "register")]
    assert (await pos.row(order)).status == "DRAFT"
    closed = await read_shift(pos, shift["id"])
    assert (closed["status"], closed["salesCount"], closed["cashSales"]["amount"]) == ("CLOSED", 0, "0.00")


async def test_cash_sales_sharing_the_drawer_do_not_wait_for_each_other(db, pos):
    chew = await pos.product("Chew", "2.00", stock=10)
    await open_shift(pos, "front")
    order = await order_of(pos, chew)
    # A cash sale in flight holds the drawer FOR SHARE until it commits (sales do queue on the sale
    # number counter, but only from its draw, their last step, to their commit) ...
    async with unit_held(db, lambda uow: share_open_shift(uow, "front")) as held:
        # ... and another goes through meanwhile (FOR UPDATE would queue it until BUSY).
        other = await asyncio.wait_for(pos.call(PAY, cash(order)), 30)
        assert other["errors"] == [], other
        assert not held.done()
    assert await held == uuid.UUID(other["sale"]["shift"]["id"])


async def test_a_movement_waits_for_the_sales_holding_the_drawer(db, pos):
    kibble = await pos.product("Kibble", "12.00", stock=10)
    shift = await open_shift(pos, "front", "0")
    async with unit_held(db, lambda uow: share_open_shift(uow, "front")):
        moving = asyncio.create_task(
            pos.call(
                "mutation($i: CashMovementInput!) { recordCashMovement(input: $i) { errors { code } } }",
                {"i": {"shiftId": shift["id"], "amount": "5.00", "reason": "float top-up"}},
            )
        )
        await wait_for_lock_waiters(db, 1, statement=WHOLE_TURN, racers=[moving])
        assert not moving.done()
    assert (await moving)["errors"] == []
    sold = await pos.call(PAY, cash(await order_of(pos, kibble)))
    assert sold["errors"] == []
    assert (await read_shift(pos, shift["id"]))["expectedCash"]["amount"] == "17.00"


async def test_tablets_opening_one_register_at_once_leave_one_shift_open(db, pos, users):
    staff, _ = await users.signed_in("STAFF")
    first = service.prepare_open(register_name="front", opening_float=Decimal("10.00"))
    async with unit_held(db, lambda uow: service.open_shift(uow, first, by=staff.id)) as holder:
        # Not committed yet: the others find no OPEN shift and queue on the unique index, whatever
        # the letter case of the name they give.
        others = [
            asyncio.create_task(pos.call(OPEN, {"i": {"register": name, "openingFloat": "20.00"}}))
            for name in ("front", "Front", "FRONT")
        ]
        await wait_for_lock_waiters(db, 3, statement=r"\mINSERT INTO cash_shifts\M", racers=others)
    winner = await holder
    results = await asyncio.gather(*others)
    assert [[(e["code"], e["field"]) for e in r["errors"]] for r in results] == [
        [("SHIFT_ALREADY_OPEN", "register")]
    ] * 3
    current = await pos.gql(
        'query { currentShift(register: "front") { id openingFloat { amount } } }', {}, token=pos.token
    )
    assert current["data"]["currentShift"] == {"id": str(winner.id), "openingFloat": {"amount": "10.00"}}


async def test_a_cash_refund_in_flight_when_the_drawer_closes_is_counted_in_it(db, pos):
    kibble = await pos.product("Kibble", "12.00", stock=10)
    shift = await open_shift(pos, "front", "0")
    sold = await pos.ok(PAY, cash(await order_of(pos, kibble)))
    refund = {"saleId": sold["sale"]["id"], "reason": "torn bag", "idempotencyKey": "r", "register": "front"}
    async with row_lock_held(db, Product, kibble.id):
        # The refund holds the drawer FOR SHARE while it waits to put the bag back in stock.
        refunding = asyncio.create_task(pos.call(REFUND, {"i": refund}))
        await wait_for_lock_waiters(db, 1, table="products", racers=[refunding])
        closing = asyncio.create_task(close_shift(pos, shift["id"], "0.00"))
        await wait_for_lock_waiters(db, 1, statement=WHOLE_TURN, racers=[closing, refunding])
        assert not refunding.done()
    assert (await refunding)["errors"] == []
    closed = (await closing)["shift"]
    assert (closed["cashSales"]["amount"], closed["cashRefunds"]["amount"]) == ("12.00", "12.00")
    assert (closed["expectedCash"]["amount"], closed["overShort"]["amount"]) == ("0.00", "0.00")
