"""Tenders on every sale (online ones too), refunds by method out of a drawer, and the statements a
cash checkout costs: constant in its lines and tenders, the shift held FOR SHARE in lock order."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import select

from app.domain.sales.models import Refund
from tests.commerce.shop import CHECKOUT, Shop
from tests.pos.conftest import assert_order_locked_before_any_write
from tests.shifts.drawer import PAY, REFUND, close_shift, open_shift, order_of, payment, read_shift
from tests.sql_recorder import record_sql

SALE_TENDERS = (
    "query($id: ID!) { sale(id: $id) { paymentMethod tenders { method amount { amount } } shift { id } } }"
)


def refund_input(sale_id: str, **how) -> dict:
    return {"i": {"saleId": sale_id, "reason": "returned", "idempotencyKey": uuid.uuid4().hex, **how}}


async def test_an_online_sale_is_paid_by_one_online_tender_and_refunded_online(db, pos, gql, users):
    shop = Shop(db)
    product = await shop.product(price="9.99")
    customer, token = await users.signed_in()
    await gql(
        "mutation($p: ID!) { addToCart(productId: $p, quantity: 2) { errors { code } } }",
        {"p": str(product.id)},
        token=token,
    )
    sale = (await gql(CHECKOUT, {"k": "k1"}, token=token))["data"]["checkout"]["sale"]
    read = (await pos.gql(SALE_TENDERS, {"id": sale["id"]}, token=pos.token))["data"]["sale"]
    assert read == {
        "paymentMethod": "ONLINE",
        "tenders": [{"method": "ONLINE", "amount": {"amount": "19.98"}}],
        "shift": None,
    }
    refund = await pos.ok(REFUND, refund_input(sale["id"]))
    assert (refund["refund"]["method"], refund["refund"]["shift"]) == ("ONLINE", None)


async def test_a_refund_goes_back_the_way_it_was_paid_unless_told_and_cash_needs_an_open_drawer(db, pos):
    kibble = await pos.product("Kibble", "12.00", stock=20)
    shift = await open_shift(pos, "front", "0")
    cash_sale = (
        await pos.ok(
            PAY,
            payment(
                await order_of(pos, kibble), paymentMethod="CASH", amountTendered="12.00", register="front"
            ),
        )
    )["sale"]
    card_sale = (await pos.ok(PAY, payment(await order_of(pos, kibble), paymentMethod="CARD")))["sale"]

    # The cash sale's refund defaults to CASH: it names the register, whose drawer must be open.
    unnamed = await pos.call(REFUND, refund_input(cash_sale["id"]))
    assert [(e["code"], e["field"]) for e in unnamed["errors"]] == [("VALIDATION", "register")]
    nowhere = await pos.call(REFUND, refund_input(cash_sale["id"], register="back"))
    assert [(e["code"], e["field"]) for e in nowhere["errors"]] == [("SHIFT_NOT_OPEN", "register")]
    told_cash = await pos.call(REFUND, refund_input(card_sale["id"], method="CASH"))
    assert [(e["code"], e["field"]) for e in told_cash["errors"]] == [("VALIDATION", "register")]
    # A counter sale has no online payment to give the money back to.
    online = await pos.call(REFUND, refund_input(card_sale["id"], method="ONLINE"))
    assert [(e["code"], e["field"]) for e in online["errors"]] == [("VALIDATION", "method")]
    async with db.read() as session:
        assert (await session.scalars(select(Refund))).all() == []

    card_back = await pos.ok(REFUND, refund_input(card_sale["id"]))
    assert (card_back["refund"]["method"], card_back["refund"]["shift"]) == ("CARD", None)
    cash_back = await pos.ok(REFUND, refund_input(cash_sale["id"], method="CARD"))
    assert (cash_back["refund"]["method"], cash_back["refund"]["shift"]) == ("CARD", None)

    other = (await pos.ok(PAY, payment(await order_of(pos, kibble), paymentMethod="CARD")))["sale"]
    in_cash = await pos.ok(REFUND, refund_input(other["id"], method="CASH", register="front"))
    assert (in_cash["refund"]["method"], in_cash["refund"]["shift"]) == ("CASH", {"id": shift["id"]})
    now = await read_shift(pos, shift["id"])
    assert (now["cashSales"]["amount"], now["cashRefunds"]["amount"], now["expectedCash"]["amount"]) == (
        "12.00",
        "12.00",
        "0.00",
    )
    await close_shift(pos, shift["id"], "0.00")
    closed = await pos.call(REFUND, refund_input(cash_sale["id"], register="front"))
    assert [(e["code"], e["field"]) for e in closed["errors"]] == [("REFUND_EXCEEDS_SALE", "lines")]


async def test_a_sale_paid_by_card_and_cash_is_refunded_only_when_told_how(db, pos):
    """By its first tender alone (card), the cash part would never leave the drawer that took it."""
    kibble = await pos.product("Kibble", "12.00", stock=20)
    shift = await open_shift(pos, "front", "0")
    split = [{"method": "CARD", "amount": "5.00"}, {"method": "CASH", "amount": "10.00"}]
    sale = (await pos.ok(PAY, payment(await order_of(pos, kibble), tenders=split, register="front")))["sale"]

    untold = await pos.call(REFUND, refund_input(sale["id"]))
    assert [(e["code"], e["field"]) for e in untold["errors"]] == [("VALIDATION", "method")]
    assert "CARD and CASH" in untold["errors"][0]["message"]
    async with db.read() as session:
        assert (await session.scalars(select(Refund))).all() == []

    in_cash = await pos.ok(REFUND, refund_input(sale["id"], method="CASH", register="front"))
    assert (in_cash["refund"]["method"], in_cash["refund"]["shift"]) == ("CASH", {"id": shift["id"]})
    now = await read_shift(pos, shift["id"])
    assert (now["cashSales"]["amount"], now["cashRefunds"]["amount"]) == ("7.00", "12.00")


async def test_a_cash_refund_after_the_close_is_refused_and_changes_nothing(db, pos):
    kibble = await pos.product("Kibble", "12.00", stock=20)
    shift = await open_shift(pos, "front", "0")
    sale = (
        await pos.ok(
            PAY,
            payment(
                await order_of(pos, kibble), paymentMethod="CASH", amountTendered="12.00", register="front"
            ),
        )
    )["sale"]
    await close_shift(pos, shift["id"], "12.00")
    refused = await pos.call(REFUND, refund_input(sale["id"], register="front"))
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("SHIFT_NOT_OPEN", "register")]
    assert await Shop(db).stock(kibble.id) == (19, 19)


def share_locks(sql, table: str) -> list[int]:
    pattern = re.compile(rf"\bFROM {table}\b.*\bFOR SHARE\b", re.IGNORECASE | re.DOTALL)
    return [i for i, statement in enumerate(sql) if pattern.search(statement)]


async def test_a_cash_checkout_costs_constant_statements_in_lines_and_tenders_and_shares_the_shift(db, pos):
    await open_shift(pos, "front")
    counts = []
    for n in (1, 10):
        items = [await pos.product(f"Item {i}", "3.00") for i in range(n)]
        order_id = await order_of(pos, *items)
        tenders = [{"method": "CARD", "amount": "0.50"}] * (n - 1) + [{"method": "CASH", "amount": "50.00"}]
        with record_sql(db.engine) as sql:
            result = await pos.call(PAY, payment(order_id, tenders=tenders, register="front"))
        assert result["errors"] == [] and len(result["sale"]["tenders"]) == n
        assert_order_locked_before_any_write(sql)
        (order_lock,), (shift_lock,), (product_lock,) = (
            sql.locks("sale_orders"),
            share_locks(sql, "cash_shifts"),
            sql.locks("products"),
        )
        assert order_lock < shift_lock < product_lock
        assert sql.locks("cash_shifts") == []  # never FOR UPDATE: sales share the drawer
        counts.append(sql.count())
    assert counts[0] == counts[1], counts
