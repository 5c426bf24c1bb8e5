"""Every order can be checked out: a CUSTOM line's price is capped like a catalogue price, and
no add, update or merge takes an order's total past what a sale can record (NUMERIC(12,2))."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from app.domain import money
from app.domain.catalog.models import Product, Service
from tests.pos.conftest import MERGE, UPDATE

CHECKOUT = (
    "mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) "
    "{ sale { total { amount } } errors { code field message } } }"
)
TOP_LINE = dict(mode="CUSTOM", unitPrice=str(money.MAX_PRICE))  # 999 of these: 999,000,000.00


def codes(payload: dict) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_a_custom_price_above_the_catalogue_cap_is_refused(pos):
    order = await pos.order()
    grooming = await pos.service("Full groom", "40.00")
    for price in ("9990000000.00", str(money.MAX_PRICE + money.CENT)):
        refused = await pos.add(order["id"], grooming, 1, mode="CUSTOM", unitPrice=price)
        assert (refused["order"], codes(refused)) == (None, [("VALIDATION", "unitPrice")])
        assert str(money.MAX_PRICE) in refused["errors"][0]["message"]
    added = await pos.add(order["id"], grooming, 1, **TOP_LINE)
    assert added["errors"] == [] and added["order"]["total"]["amount"] == str(money.MAX_PRICE)


async def test_an_add_past_the_largest_recordable_total_is_refused_and_the_largest_checks_out(pos):
    grooming = await pos.service("Full groom", "40.00")
    chew = await pos.product("Burger chew", "5.00")
    order = await pos.order_coming_to(grooming, str(money.MAX_AMOUNT - Decimal("4.99")))
    for refused in (
        await pos.add(order["id"], chew, 1),
        await pos.add(order["id"], grooming, 999, **TOP_LINE),
        await pos.add(order["id"], grooming, 1, mode="CUSTOM", unitPrice="5.00"),
    ):
        assert (refused["order"], codes(refused)) == (None, [("VALIDATION", "quantity")])
        assert str(money.MAX_AMOUNT) in refused["errors"][0]["message"]
    assert (await pos.row(order["id"])).version == order["version"]
    assert len(await pos.lines(order["id"])) == len(order["items"])
    # A discount counts: 5.00 less 0.01 fits exactly.
    fits = await pos.add(order["id"], grooming, 1, mode="CUSTOM", unitPrice="5.00", discount="0.01")
    assert fits["errors"] == [] and fits["order"]["total"]["amount"] == str(money.MAX_AMOUNT)
    pay = {"orderId": order["id"], "idempotencyKey": "k", "paymentMethod": "CARD"}
    paid = await pos.call(CHECKOUT, {"i": pay})
    assert paid["errors"] == [] and paid["sale"]["total"]["amount"] == str(money.MAX_AMOUNT)


async def test_a_standard_add_grows_its_line_at_the_price_the_line_keeps(pos, db):
    grooming = await pos.service("Full groom", "40.00")
    chew = await pos.product("Burger chew", "5.00")
    order = await pos.order_coming_to(grooming, str(money.MAX_AMOUNT - Decimal("11.00")))
    assert (await pos.add(order["id"], chew, 2))["errors"] == []  # 10.00 more: 1.00 short of the largest
    async with db.engine.begin() as connection:  # the chew's line keeps 5.00 whatever the price now
        await connection.execute(update(Product).where(Product.id == chew.id).values(price=Decimal("0.50")))
    assert codes(await pos.add(order["id"], chew, 1)) == [("VALIDATION", "quantity")]
    assert (await pos.add(order["id"], chew, 1, mode="CUSTOM"))["errors"] == []  # a line of its own: 0.50


async def test_an_update_past_the_largest_recordable_total_is_refused(pos):
    grooming = await pos.service("Full groom", "40.00")
    order = await pos.order_coming_to(grooming, str(money.MAX_AMOUNT - Decimal("1.00")))
    line = next(i for i in order["items"] if i["unitPrice"]["amount"] == "0.99")  # quantity 1
    refused = await pos.call(
        UPDATE, {"o": order["id"], "items": [{"itemId": line["id"], "quantity": line["quantity"] + 2}]}
    )
    assert (refused["order"], codes(refused)) == (None, [("VALIDATION", "items")])
    assert (await pos.row(order["id"])).version == order["version"]
    # Removing one line while growing another is judged on the result.
    other = next(i for i in order["items"] if i["id"] != line["id"] and i["unitPrice"]["amount"] == "1000.00")
    done = await pos.ok(
        UPDATE,
        {
            "o": order["id"],
            "items": [
                {"itemId": line["id"], "quantity": line["quantity"] + 2},
                {"itemId": other["id"], "quantity": 0},
            ],
        },
    )
    assert Decimal(done["order"]["total"]["amount"]) < money.MAX_AMOUNT


async def test_a_merge_past_the_largest_recordable_total_is_refused(pos):
    grooming = await pos.service("Full groom", "40.00")
    target = await pos.order_coming_to(grooming, "5000000000.00")
    source = await pos.order_coming_to(grooming, "5000000000.00")
    refused = await pos.call(MERGE, {"t": target["id"], "s": [source["id"]]})
    assert (refused["order"], codes(refused)) == (None, [("VALIDATION", "sourceOrderIds")])
    assert [(await pos.row(o["id"])).status for o in (target, source)] == ["DRAFT", "DRAFT"]
    assert len(await pos.lines(source["id"])) == len(source["items"])
    small = await pos.order()
    await pos.add(small["id"], grooming, 1)
    assert (await pos.ok(MERGE, {"t": target["id"], "s": [small["id"]]}))["order"]["total"][
        "amount"
    ] == "5000000040.00"


async def test_a_merge_is_judged_at_the_prices_its_lines_keep(pos, db):
    """The target's line of an item keeps its price for the units a source brings: 998 units that
    came to 9.98 on the source come to 998,000,000.00 on the target."""
    grooming = await pos.service("Full groom", "40.00")
    portrait = await pos.service("Pet portrait", str(money.MAX_PRICE))
    target = await pos.order_coming_to(grooming, "9500000000.00")
    await pos.add(target["id"], portrait, 1)
    async with db.sessions() as session, session.begin():  # the price drops before the next add
        await session.execute(update(Service).where(Service.id == portrait.id).values(price=money.CENT))
    source = await pos.order()
    await pos.add(source["id"], portrait, 998)
    refused = await pos.call(MERGE, {"t": target["id"], "s": [source["id"]]})
    assert (refused["order"], codes(refused)) == (None, [("VALIDATION", "sourceOrderIds")])
    assert [(await pos.row(o["id"])).status for o in (target, source)] == ["DRAFT", "DRAFT"]
    assert [(line.quantity, line.unit_price) for line in await pos.lines(source["id"])] == [(998, money.CENT)]
