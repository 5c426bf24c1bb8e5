"""Migration 0009 gives the sales made before it their one tender (and their refunds the sale's
method), so `petpos check` holds right after it; 0017 makes one register of every spelling."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.migrations import alembic_config
from tests.e2e.test_cli import petpos
from tests.invariants import assert_invariants
from tests.shifts.drawer import PAY, REFUND, open_shift, order_of, payment


async def test_sales_and_refunds_from_before_get_their_tender_and_method(database_url, db, pos):
    kibble = await pos.product("Kibble", "12.00", stock=10)
    await open_shift(pos, "front")
    cash = (
        await pos.ok(
            PAY,
            payment(
                await order_of(pos, kibble), paymentMethod="CASH", amountTendered="20.00", register="front"
            ),
        )
    )["sale"]
    card = (await pos.ok(PAY, payment(await order_of(pos, kibble), paymentMethod="CARD")))["sale"]
    refund = {"reason": "returned", "idempotencyKey": "r", "register": "front"}
    await pos.ok(REFUND, {"i": {"saleId": cash["id"], **refund}})

    config = alembic_config(database_url)
    before = ScriptDirectory.from_config(config).get_revision("0009_shifts_tenders").down_revision
    await asyncio.to_thread(command.downgrade, config, before)
    await asyncio.to_thread(command.upgrade, config, "head")

    async with db.engine.connect() as connection:
        tenders = (
            await connection.execute(
                text("SELECT sale_id, position, method, amount FROM sale_tenders ORDER BY method")
            )
        ).all()
        methods = (await connection.execute(text("SELECT method, shift_id FROM refunds"))).all()
    assert [(str(t.sale_id), t.position, t.method, str(t.amount)) for t in tenders] == [
        (card["id"], 0, "CARD", "12.00"),
        (cash["id"], 0, "CASH", "20.00"),
    ]
    assert methods == [("CASH", None)]  # cash refunded before drawer shifts existed
    await assert_invariants(db)


async def test_migration_0017_stops_while_one_register_has_two_open_shifts_in_two_spellings(
    database_url, db, pos
):
    """Made one register of "front" and "FRONT": two OPEN drawers an earlier petpos let them have
    are for staff to close, not for the migration to pick from."""
    front = await open_shift(pos, "front")
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0016_code_nfkc")
    try:
        async with db.engine.begin() as connection:  # as the old index allowed
            await connection.execute(
                text(
                    "INSERT INTO cash_shifts (id, register, status, opening_float, opened_by) "
                    "SELECT gen_random_uuid(), 'FRONT', 'OPEN', 0, opened_by FROM cash_shifts"
                )
            )
        refused = await asyncio.to_thread(petpos, database_url, "migrate")
        assert (refused.returncode, refused.stderr.strip().splitlines()[-1]) == (
            1,
            "petpos migrate: these registers have an OPEN shift under each spelling: FRONT, front. "
            "Close all but one of each (closeShift), then migrate again.",
        )
        assert "Traceback" not in refused.stderr
        async with db.engine.begin() as connection:
            await connection.execute(text("DELETE FROM cash_shifts WHERE register = 'FRONT'"))
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")
    current = await pos.gql('query { currentShift(register: "FRONT") { id } }', {}, token=pos.token)
    assert current["data"]["currentShift"] == {"id": front["id"]}


FULL_WIDTH_FRONT = "\uff26\uff32\uff2f\uff2e\uff34"  # ＦＲＯＮＴ


async def test_migration_0019_writes_registers_in_nfkc_and_stops_on_two_open_shifts_of_one(
    database_url, db, pos
):
    front = await open_shift(pos, "front")
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0018_tax_rate_name_any_case")
    add = text(
        "INSERT INTO cash_shifts (id, register, status, opening_float, opened_by) "
        "SELECT gen_random_uuid(), :register, 'OPEN', 0, opened_by FROM cash_shifts WHERE register = 'front'"
    )
    try:
        async with db.engine.begin() as connection:  # as the old forms allowed
            await connection.execute(add, {"register": FULL_WIDTH_FRONT})
            await connection.execute(add, {"register": "cafe\u0301  2"})  # é as e and its accent
            wide = await connection.scalar(
                text("SELECT id FROM cash_shifts WHERE register = :r"), {"r": FULL_WIDTH_FRONT}
            )
        refused = await asyncio.to_thread(petpos, database_url, "migrate")
        assert (refused.returncode, refused.stderr.strip().splitlines()[-1]) == (
            1,
            "petpos migrate: these registers have an OPEN shift under each spelling: "
            f'"\\uff26\\uff32\\uff2f\\uff2e\\uff34" ({wide}), "front" ({front["id"]}). '
            "Close all but one of each (closeShift), then migrate again.",
        )
        async with db.engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM cash_shifts WHERE register = :r"), {"r": FULL_WIDTH_FRONT}
            )
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")
    cafe = await pos.gql('query { currentShift(register: "caf\u00e9 2") { register } }', {}, token=pos.token)
    assert cafe["data"]["currentShift"] == {"register": "caf\u00e9 2"}
    current = await pos.gql(
        f'query {{ currentShift(register: "{FULL_WIDTH_FRONT}") {{ id }} }}', {}, token=pos.token
    )
    assert current["data"]["currentShift"] == {"id": front["id"]}
