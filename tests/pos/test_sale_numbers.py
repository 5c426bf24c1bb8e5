"""Sale numbers have no gaps: a unit that rolls back after drawing its number gives it back,
and a sale waits for the one that drew before it to end (app/domain/sales/numbers.py). Order
and sale numbers keep every digit past 999,999."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.domain.pos import checkout as pos_checkout
from app.domain.uow import run_unit
from app.migrations import alembic_config
from tests.pos.conftest import card_checkout_request
from tests.races import unit_held, wait_for_lock_waiters
from tests.shifts.drawer import order_of, payment

PAY = """mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) {
  errors { code field message } sale { number } } }"""


class Abandoned(Exception):
    """A failure after the sale is written: the unit rolls back."""


async def card_checkout(db, order_id: str, staff_id):
    request = await card_checkout_request(db, order_id)
    return lambda uow: pos_checkout.checkout_order(uow, request=request, by=staff_id)


async def number_of_next_sale(pos, chew) -> str:
    payload = await pos.ok(PAY, payment(await order_of(pos, chew), paymentMethod="CARD"))
    return payload["sale"]["number"]


async def test_a_sale_rolled_back_after_drawing_its_number_gives_it_back(db, pos, users):
    chew = await pos.product("Chew", "2.00")
    staff = await users.create("STAFF")
    assert await number_of_next_sale(pos, chew) == "S-000001"
    checkout = await card_checkout(db, await order_of(pos, chew), staff.id)

    async def checkout_then_fail(uow):
        sale, _ = await checkout(uow)

        async def fail() -> None:  # after the unit's last step, the number's draw
            assert sale.number == "S-000002"
            raise Abandoned

        uow.last(fail)

    with pytest.raises(Abandoned):
        await run_unit(db.sessions, checkout_then_fail, lock_timeout_ms=5000)

    assert await number_of_next_sale(pos, chew) == "S-000002"


async def test_a_sale_waits_for_the_one_that_drew_before_it_and_takes_its_number_if_it_fails(db, pos, users):
    chew, toy = await pos.product("Chew", "2.00"), await pos.product("Toy", "3.00")
    staff = await users.create("STAFF")
    checkout = await card_checkout(db, await order_of(pos, chew), staff.id)
    later = await order_of(pos, toy)  # another product: the two sales share no row but the counter
    async with unit_held(db, checkout) as held:
        paying = asyncio.create_task(pos.ok(PAY, payment(later, paymentMethod="CARD")))
        await wait_for_lock_waiters(db, 1, statement=r"\mINSERT INTO sale_numbers\M", racers=[paying])
        held.cancel()  # the connection is lost before the first sale commits
    with pytest.raises(asyncio.CancelledError):
        await held
    assert (await paying)["sale"]["number"] == "S-000001"


async def test_a_sale_is_stamped_as_it_draws_its_number_so_newest_first_is_number_order(db, pos, users):
    """A sale written, then held before its draw while another sale commits, is stamped when it
    draws: its createdAt follows its number. Stamped when first written, it read as older than the
    sale numbered before it, and `sales` (newest first) listed S-000001 above S-000002."""
    chew, toy = await pos.product("Chew", "2.00"), await pos.product("Toy", "3.00")
    staff = await users.create("STAFF")
    checkout = await card_checkout(db, await order_of(pos, chew), staff.id)
    later = await order_of(pos, toy)
    written, go = asyncio.Event(), asyncio.Event()

    async def held_before_its_number(uow):
        async def hold() -> None:
            written.set()
            await go.wait()

        uow.last(hold)  # the unit's last steps run in turn: this one before the draw checkout adds
        return await checkout(uow)

    first = asyncio.create_task(run_unit(db.sessions, held_before_its_number, lock_timeout_ms=5000))
    try:
        await asyncio.wait_for(written.wait(), 10)
        assert (await pos.ok(PAY, payment(later, paymentMethod="CARD")))["sale"]["number"] == "S-000001"
    finally:
        go.set()
    sale, _ = await first
    assert sale.number == "S-000002"
    listed = await pos.call("{ sales(first: 5) { edges { node { number createdAt } } } }", {})
    nodes = [edge["node"] for edge in listed["edges"]]
    assert [node["number"] for node in nodes] == ["S-000002", "S-000001"]
    assert nodes[0]["createdAt"] > nodes[1]["createdAt"]


async def test_a_sale_without_a_number_is_refused_at_commit(db, pos):
    await number_of_next_sale(pos, await pos.product("Chew", "2.00"))
    with pytest.raises(IntegrityError, match="has no number"):
        async with db.engine.begin() as connection:
            await connection.execute(text("UPDATE sales SET number = NULL"))
    async with db.engine.connect() as connection:
        assert (await connection.execute(text("SELECT number FROM sales"))).scalar_one() == "S-000001"


async def test_numbers_go_on_past_six_digits(db, pos):
    chew = await pos.product("Chew", "2.00")
    async with db.engine.begin() as connection:
        await connection.execute(text("INSERT INTO sale_numbers (id, last) VALUES (1, 999999)"))
        await connection.execute(text("SELECT setval('sale_order_number_seq', 999999)"))
    assert (await pos.order())["number"] == "O-1000000"
    assert await number_of_next_sale(pos, chew) == "S-1000000"
    assert await number_of_next_sale(pos, chew) == "S-1000001"


async def test_after_the_migration_numbers_go_on_from_the_highest_a_sale_holds(database_url, db, pos):
    chew = await pos.product("Chew", "2.00")
    assert [await number_of_next_sale(pos, chew) for _ in range(2)] == ["S-000001", "S-000002"]
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0011_user_change_notify")
    async with db.engine.begin() as connection:  # the sequence lost values to failed units
        await connection.execute(text("SELECT setval('sale_number_seq', 10)"))
    await asyncio.to_thread(command.upgrade, config, "head")

    assert await number_of_next_sale(pos, chew) == "S-000003"


async def test_a_sale_committed_by_the_older_code_while_the_migration_runs_keeps_its_number(
    database_url, db, pos
):
    """A server still on the sequence sells while 0012 reads the highest number: the migration
    waits for that sale, so the counter goes on after it instead of handing its number out again."""
    chew = await pos.product("Chew", "2.00")
    assert [await number_of_next_sale(pos, chew) for _ in range(2)] == ["S-000001", "S-000002"]
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0011_user_change_notify")
    async with db.engine.connect() as older:  # the older code's sale, numbered by the sequence
        await older.execute(text("CREATE TEMP TABLE copied ON COMMIT DROP AS SELECT * FROM sales LIMIT 1"))
        await older.execute(
            text(
                "UPDATE copied SET id = gen_random_uuid(), "
                "number = 'S-' || lpad(nextval('sale_number_seq')::text, 6, '0')"
            )
        )
        await older.execute(text("INSERT INTO sales SELECT * FROM copied"))
        migrating = asyncio.create_task(asyncio.to_thread(command.upgrade, config, "head"))
        await wait_for_lock_waiters(db, 1, statement=r"\m(LOCK|ALTER) TABLE sales\M", racers=[migrating])
        await older.commit()
    await migrating

    assert await number_of_next_sale(pos, chew) == "S-000004"


async def test_going_back_before_taxes_is_refused_once_a_sale_carries_tax(database_url, db, pos):
    """0008's downgrade would drop a sale's tax: it refuses, and the database stays as it was."""
    from tests.taxes.helpers import tax_rate, taxed_product

    taxed = await taxed_product(db, "BONE", "10.00", await tax_rate(db, "8"))
    assert await number_of_next_sale(pos, taxed) == "S-000001"
    config = alembic_config(database_url)
    with pytest.raises(DBAPIError, match="0007 cannot hold"):
        await asyncio.to_thread(command.downgrade, config, "0007_outbox_delivery")

    assert await number_of_next_sale(pos, taxed) == "S-000002"


async def test_a_sale_waiting_on_the_counter_takes_the_next_number_when_the_first_commits(db, pos, users):
    chew, toy = await pos.product("Chew", "2.00"), await pos.product("Toy", "3.00")
    staff = await users.create("STAFF")
    checkout = await card_checkout(db, await order_of(pos, chew), staff.id)
    later = await order_of(pos, toy)  # no row shared with the first sale but the counter
    async with unit_held(db, checkout) as held:
        paying = asyncio.create_task(pos.call(PAY, payment(later, paymentMethod="CARD")))
        await wait_for_lock_waiters(db, 1, statement=r"\mINSERT INTO sale_numbers\M", racers=[paying])
    first, _ = await held
    assert first.number == "S-000001"
    second = await paying
    assert second["errors"] == [] and second["sale"]["number"] == "S-000002"
