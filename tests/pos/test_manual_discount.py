"""Staff discounts on a POS order (setSaleOrderDiscount): STAFF up to
PETPOS_STAFF_MAX_DISCOUNT_PERCENT of the lines, ADMIN up to all of them, decided under the order
lock on the lines as they are then; taken off before coupon and points; split and merge."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.coupons.models import Coupon
from app.domain.pos import items as order_lines
from tests.commerce.shop import Shop
from tests.invariants import assert_invariants
from tests.pos.conftest import MERGE, REMOVE, SPLIT
from tests.races import unit_held, wait_for_lock_waiters

DISCOUNT = """mutation($o: ID!, $a: Decimal, $p: Decimal, $r: String!) {
  setSaleOrderDiscount(orderId: $o, amount: $a, percent: $p, reason: $r) {
    errors { code field message }
    order { id version subtotal { amount } manualDiscount { amount } discountReason total { amount } } } }"""
ORDER = """query($id: ID!) { saleOrder(id: $id) {
  version manualDiscount { amount } discountReason total { amount } } }"""
PAY = """mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) {
  errors { code field } sale { subtotal { amount } manualDiscount { amount } couponDiscount { amount }
  total { amount } } } }"""


async def give(pos, order_id: str, amount=None, percent=None, reason="regular", token=None) -> dict:
    return await pos.call(DISCOUNT, {"o": order_id, "a": amount, "p": percent, "r": reason}, token)


def refused(payload: dict) -> list[tuple[str, str]]:
    assert payload["order"] is None
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def order_of(pos, total: str = "50.00") -> dict:
    order = await pos.order()
    await pos.add(order["id"], await pos.product("Bed", total), 1)
    return order


async def test_staff_give_up_to_the_limit_and_no_more(pos):
    order = await order_of(pos)
    assert refused(await give(pos, order["id"], percent="20.001")) == [("DISCOUNT_NOT_ALLOWED", "percent")]
    assert refused(await give(pos, order["id"], amount="10.01")) == [("DISCOUNT_NOT_ALLOWED", "amount")]
    before = await pos.read(order["id"])
    given = await give(pos, order["id"], amount="10.00", reason="  damaged box ")
    assert given["errors"] == []
    shown = given["order"]
    assert (shown["manualDiscount"]["amount"], shown["discountReason"], shown["total"]["amount"]) == (
        "10.00",
        "damaged box",
        "40.00",
    )
    assert shown["version"] == before["version"] + 1
    assert (await give(pos, order["id"], percent="20"))["order"]["manualDiscount"]["amount"] == "10.00"


async def test_the_staff_limit_is_a_setting_and_an_admin_may_give_the_whole_order(
    pos, users, settings, monkeypatch
):
    monkeypatch.setattr(settings, "staff_max_discount_percent", Decimal("5"))
    order = await order_of(pos)
    assert refused(await give(pos, order["id"], percent="6")) == [("DISCOUNT_NOT_ALLOWED", "percent")]
    _, admin = await users.signed_in("ADMIN")
    assert refused(await give(pos, order["id"], amount="50.01", token=admin)) == [
        ("DISCOUNT_NOT_ALLOWED", "amount")
    ]
    whole = await give(pos, order["id"], amount="50.00", token=admin)
    assert whole["order"]["total"]["amount"] == "0.00"
    assert (await give(pos, order["id"], percent="100", token=admin))["errors"] == []


async def test_zero_removes_the_discount(pos):
    order = await order_of(pos)
    for removal in ({"amount": "0"}, {"percent": "0.000"}):
        given = await give(pos, order["id"], percent="10")
        assert (given["errors"], given["order"]["manualDiscount"]["amount"]) == ([], "5.00")
        removed = await give(pos, order["id"], reason="", **removal)
        assert removed["errors"] == []
        assert (removed["order"]["manualDiscount"]["amount"], removed["order"]["discountReason"]) == (
            "0.00",
            None,
        )


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"a": "1.00", "p": "1"}, "amount"),
        ({}, "percent"),
        ({"a": "1.001"}, "amount"),
        ({"a": "-1.00"}, "amount"),
        ({"p": "101"}, "percent"),
        ({"p": "NaN"}, None),
        ({"a": "1.00", "r": "   "}, "reason"),
        ({"a": "1.00", "r": "x" * 201}, "reason"),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(pos, variables, field):
    order = await order_of(pos)
    before = await pos.read(order["id"])
    result = await pos.gql(DISCOUNT, {"o": order["id"], "r": "why", **variables}, token=pos.token)
    if field is None:  # the Decimal scalar refuses it before the resolver
        assert result["errors"][0]["extensions"]["code"] != "INTERNAL"
    else:
        assert refused(result["data"]["setSaleOrderDiscount"]) == [("VALIDATION", field)]
    assert await pos.read(order["id"]) == before


async def test_only_a_draft_order_takes_a_discount(pos):
    order = await order_of(pos)
    await pos.call(PAY, {"i": {"orderId": order["id"], "idempotencyKey": "k", "paymentMethod": "CARD"}})
    assert refused(await give(pos, order["id"], percent="5")) == [("ORDER_NOT_EDITABLE", "orderId")]
    assert refused(await give(pos, str(uuid.uuid4()), percent="5")) == [("NOT_FOUND", "orderId")]


async def test_taking_lines_off_cannot_stretch_a_discount_past_its_givers_limit(pos):
    order = await pos.order()
    await pos.add(order["id"], await pos.product("Bed", "30.00"), 1)
    added = await pos.add(order["id"], await pos.product("Bowl", "20.00"), 1)
    await give(pos, order["id"], amount="10.00")  # 20% of 50.00
    bed = next(i for i in added["order"]["items"] if i["name"] == "Bed")
    await pos.ok(REMOVE, {"o": order["id"], "l": bed["id"]})
    shown = await pos.gql(ORDER, {"id": order["id"]}, token=pos.token)
    assert shown["data"]["saleOrder"]["manualDiscount"]["amount"] == "4.00"  # 20% of the 20.00 left
    paid = await pos.ok(PAY, {"i": {"orderId": order["id"], "idempotencyKey": "k", "paymentMethod": "CARD"}})
    assert (paid["sale"]["manualDiscount"]["amount"], paid["sale"]["total"]["amount"]) == ("4.00", "16.00")


async def test_the_discount_comes_before_the_coupon(pos, db):
    await Shop(db).coupon("TENOFF", kind="PERCENT", value="10")
    order = await order_of(pos, "100.00")
    await give(pos, order["id"], percent="20")
    paid = await pos.ok(
        PAY,
        {
            "i": {
                "orderId": order["id"],
                "idempotencyKey": "k",
                "paymentMethod": "CARD",
                "couponCode": "TENOFF",
            }
        },
    )
    sale = paid["sale"]
    assert [sale[k]["amount"] for k in ("subtotal", "manualDiscount", "couponDiscount", "total")] == [
        "100.00",
        "20.00",
        "8.00",
        "72.00",
    ]
    await assert_invariants(db)


PAY_WITH_COUPON = """mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) {
  errors { code field message } sale { id } } }"""


async def pay_with(pos, order_id: str, code: str) -> dict:
    card = {"orderId": order_id, "idempotencyKey": "k", "paymentMethod": "CARD", "couponCode": code}
    return await pos.call(PAY_WITH_COUPON, {"i": card})


async def test_a_coupon_minimum_counts_after_the_discount_and_says_so(pos, db):
    await Shop(db).coupon("FIVE", kind="FIXED", value="5", min_subtotal=Decimal("50.00"))
    order = await order_of(pos, "55.00")
    await give(pos, order["id"], percent="10")
    paid = await pay_with(pos, order["id"], "FIVE")
    assert [(e["code"], e["field"], e["message"]) for e in paid["errors"]] == [
        (
            "COUPON_MINIMUM_NOT_MET",
            "couponCode",
            "This coupon needs a subtotal of at least 50.00 after the staff discount (49.50 here)",
        )
    ]


async def test_a_coupon_that_takes_nothing_off_is_refused_and_keeps_its_use(pos, db, users):
    """A sale the staff discount made free would spend a limited coupon's use for nothing."""
    coupon = await Shop(db).coupon("ONCE", kind="FIXED", value="5", usage_limit=1)
    order = await order_of(pos, "20.00")
    _, admin = await users.signed_in("ADMIN")
    await give(pos, order["id"], percent="100", token=admin)
    paid = await pay_with(pos, order["id"], "ONCE")
    assert [(e["code"], e["field"]) for e in paid["errors"]] == [("VALIDATION", "couponCode")]
    assert "takes nothing off" in paid["errors"][0]["message"]
    async with db.sessions() as session:
        assert await session.scalar(select(Coupon.times_used).where(Coupon.id == coupon.id)) == 0
    free = {"orderId": order["id"], "idempotencyKey": "k2", "paymentMethod": "CARD"}
    assert (await pos.call(PAY_WITH_COUPON, {"i": free}))["errors"] == []  # without it the sale goes


async def test_split_keeps_the_discount_on_the_source_and_merge_keeps_the_targets(pos):
    source = await pos.order()
    await pos.add(source["id"], await pos.product("Bed", "30.00"), 1)
    added = await pos.add(source["id"], await pos.product("Bowl", "20.00"), 1)
    await give(pos, source["id"], percent="10", reason="regular")
    bowl = next(i for i in added["order"]["items"] if i["name"] == "Bowl")
    split = await pos.ok(SPLIT, {"o": source["id"], "items": [{"itemId": bowl["id"], "quantity": 1}]})
    shown = {
        name: (await pos.gql(ORDER, {"id": split[name]["id"]}, token=pos.token))["data"]["saleOrder"]
        for name in ("source", "created")
    }
    assert (shown["source"]["manualDiscount"]["amount"], shown["source"]["discountReason"]) == (
        "3.00",
        "regular",
    )
    assert (shown["created"]["manualDiscount"]["amount"], shown["created"]["discountReason"]) == (
        "0.00",
        None,
    )

    target = await order_of(pos, "40.00")
    await give(pos, target["id"], amount="2.00", reason="birthday")
    await pos.ok(MERGE, {"t": target["id"], "s": [source["id"]]})
    merged = (await pos.gql(ORDER, {"id": target["id"]}, token=pos.token))["data"]["saleOrder"]
    assert (merged["manualDiscount"]["amount"], merged["discountReason"], merged["total"]["amount"]) == (
        "2.00",
        "birthday",
        "68.00",
    )


async def test_the_limit_is_checked_on_the_lines_as_they_are_once_the_order_is_locked(db, pos):
    """A line removed by a change holding the order lock is gone when the discount is decided:
    20% of 50.00 would be allowed, 10.00 of the 20.00 left is not."""
    order = await pos.order()
    await pos.add(order["id"], await pos.product("Bed", "30.00"), 1)
    added = await pos.add(order["id"], await pos.product("Bowl", "20.00"), 1)
    bed = next(i for i in added["order"]["items"] if i["name"] == "Bed")
    order_id, line_id = uuid.UUID(order["id"]), uuid.UUID(bed["id"])
    async with unit_held(db, lambda uow: order_lines.remove_item(uow, order_id=order_id, line_id=line_id)):
        giving = asyncio.create_task(give(pos, order["id"], amount="10.00"))
        await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[giving])
    assert refused(await giving) == [("DISCOUNT_NOT_ALLOWED", "amount")]
    shown = (await pos.gql(ORDER, {"id": order["id"]}, token=pos.token))["data"]["saleOrder"]
    assert (shown["manualDiscount"]["amount"], shown["total"]["amount"]) == ("0.00", "20.00")
