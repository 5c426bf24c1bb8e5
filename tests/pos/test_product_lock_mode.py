"""Sales, refunds and stock adjustments change only a product's stock, never its key, so they lock it
FOR NO KEY UPDATE: a customer putting the product in a cart meanwhile (the cart line's foreign-key
check takes FOR KEY SHARE on the product) goes on, while another stock change still waits."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.domain.catalog import service as catalog
from app.domain.pos import checkout as pos_checkout
from app.domain.sales import refunds
from app.domain.uow import run_unit
from tests.commerce.shop import ADD, Shop
from tests.pos.conftest import card_checkout_request
from tests.races import unit_held
from tests.shifts.drawer import order_of


@pytest.mark.parametrize(("holder", "stock"), [("sale", 9), ("refund", 10), ("stock adjustment", 15)])
async def test_a_stock_change_in_flight_does_not_hold_up_a_cart_taking_the_product(
    db, pos, gql, users, holder, stock
):
    kibble = await pos.product("Kibble", "12.00", stock=10)
    staff, _ = await users.signed_in("STAFF")
    _, customer = await users.signed_in("CUSTOMER")
    if holder == "sale":
        request = await card_checkout_request(db, await order_of(pos, kibble))
        work = lambda uow: pos_checkout.checkout_order(uow, request=request, by=staff.id)  # noqa: E731
    elif holder == "refund":
        sold = await card_checkout_request(db, await order_of(pos, kibble))
        sale, _ = await run_unit(
            db.sessions,
            lambda uow: pos_checkout.checkout_order(uow, request=sold, by=staff.id),
            lock_timeout_ms=3000,
        )
        back = refunds.prepare_refund(sale_id=str(sale.id), lines=None, reason="Torn bag", key="r1")
        work = lambda uow: refunds.refund_sale(uow, request=back, by=staff.id)  # noqa: E731
    else:
        work = lambda uow: catalog.adjust_stock(  # noqa: E731
            uow, product_id=kibble.id, delta=5, reason="RESTOCK", note=None
        )
    async with unit_held(db, work) as held, db.engine.connect() as other:
        # The cart line goes in while the stock change is held (under FOR UPDATE it would queue
        # until the lock timeout and answer BUSY).
        added = await asyncio.wait_for(gql(ADD, {"p": str(kibble.id), "q": 2}, token=customer), 30)
        assert added["data"]["addToCart"]["errors"] == [], added
        assert not held.done()
        # Another writer of the product still waits.
        await other.execute(text("SET lock_timeout = '50ms'"))
        with pytest.raises(DBAPIError) as raised:
            await other.execute(
                text("SELECT 1 FROM products WHERE id = :id FOR NO KEY UPDATE"), {"id": kibble.id}
            )
        # lock_not_available: the lock_timeout ran out on the held row, not some other error.
        assert getattr(raised.value.orig, "sqlstate", None) == "55P03", raised.value
        await other.rollback()
    await held
    assert await Shop(db).stock(kibble.id) == (stock, stock)
