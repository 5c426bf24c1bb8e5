"""Tax on carts, open orders and sales: each line taxed on its amount after its share of every
sale-level discount (staff, coupon, points), half-up to cents; on top of the prices, or inside
them with PETPOS_PRICES_INCLUDE_TAX; sold lines keep their rate."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.domain.sales.models import Sale, SaleLine
from tests.commerce.shop import Shop
from tests.taxes.helpers import set_rate, tax_rate, taxed_product, taxed_service

D = Decimal

CART = "{ myCart { subtotal { amount } discount { amount } tax { amount } total { amount } } }"
ADD = "mutation($p: ID!, $q: Int!) { addToCart(productId: $p, quantity: $q) { errors { code } } }"
SALE_FIELDS = """id subtotal { amount } manualDiscount { amount } couponDiscount { amount }
  pointsDiscount { amount } tax { amount } total { amount } pricesIncludeTax pointsEarned
  lines { id name taxRate tax { amount } netTotal { amount } lineTotal { amount } }"""
CHECKOUT = f"""mutation($k: String!, $r: Int) {{ checkout(input: {{idempotencyKey: $k, redeemPoints: $r}}) {{
  errors {{ code field message }} sale {{ {SALE_FIELDS} }} }} }}"""
PAY = f"""mutation($i: CheckoutSaleOrderInput!) {{ checkoutSaleOrder(input: $i) {{
  errors {{ code field message }} sale {{ {SALE_FIELDS} }} }} }}"""
DISCOUNT = """mutation($o: ID!, $a: Decimal, $p: Decimal, $r: String!) {
  setSaleOrderDiscount(orderId: $o, amount: $a, percent: $p, reason: $r) {
    errors { code field message }
    order { id subtotal { amount } manualDiscount { amount } discountReason tax { amount }
            total { amount } } } }"""
ORDER = "query($id: ID!) { saleOrder(id: $id) { manualDiscount { amount } tax { amount } total { amount } } }"
SALE = f"query($id: ID!) {{ sale(id: $id) {{ {SALE_FIELDS} }} }}"


def amounts(sale: dict, *names: str) -> tuple:
    return tuple(sale[name]["amount"] for name in names)


def pay(order_id: str, **extra) -> dict:
    return {"i": {"orderId": order_id, "idempotencyKey": uuid.uuid4().hex, "paymentMethod": "CARD", **extra}}


async def test_the_cart_shows_tax_after_its_coupon_and_checkout_charges_it(gql, users, db):
    shop = Shop(db)
    ten = await tax_rate(db, "10")
    _, token = await users.signed_in("CUSTOMER")
    toy = await taxed_product(db, "TOY", "30.00", ten)
    food = await taxed_product(db, "FOOD", "10.00")
    for product in (toy, food):
        await gql(ADD, {"p": str(product.id), "q": 1}, token=token)
    await shop.coupon("SAVE10")
    await gql('mutation { applyCoupon(code: "SAVE10") { errors { code } } }', token=token)
    cart = (await gql(CART, token=token))["data"]["myCart"]
    # 4.00 off, shared 3.00 / 1.00: the toy is taxed on 27.00.
    assert amounts(cart, "subtotal", "discount", "tax", "total") == ("40.00", "4.00", "2.70", "38.70")
    paid = (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]
    assert paid["errors"] == []
    sale = paid["sale"]
    assert amounts(sale, "subtotal", "couponDiscount", "tax", "total") == ("40.00", "4.00", "2.70", "38.70")
    assert [(l["taxRate"], l["tax"]["amount"], l["netTotal"]["amount"]) for l in sale["lines"]] == [
        ("10.000", "2.70", "27.00"),
        (None, "0.00", "9.00"),
    ]
    assert sale["pricesIncludeTax"] is False and sale["pointsEarned"] == 38


@pytest.mark.parametrize(
    ("included", "line_taxes", "order_tax", "order_total", "tax", "total"),
    [
        (False, ["3.99", "0.50", "0.00"], "5.01", "76.56", "4.49", "68.54"),
        (True, ["3.68", "0.48", "0.00"], "4.65", "71.55", "4.16", "64.05"),
    ],
)
async def test_a_pos_sale_taxes_each_line_after_its_share_of_staff_coupon_and_points(
    db, pos, users, settings, monkeypatch, included, line_taxes, order_tax, order_total, tax, total
):
    monkeypatch.setattr(settings, "prices_include_tax", included)
    shop = Shop(db)
    customer = await users.create("CUSTOMER")
    # 250 points from an earlier untaxed sale.
    earlier = await pos.order(customer_id=str(customer.id))
    await pos.add(earlier["id"], await taxed_product(db, "CRATE", "250.00"), 1)
    await pos.ok(PAY, pay(earlier["id"]))

    reduced, standard = await tax_rate(db, "5", "Reduced"), await tax_rate(db, "8.25", "Standard")
    order = await pos.order(customer_id=str(customer.id))
    await pos.add(order["id"], await taxed_product(db, "BED", "19.99", standard), 3)  # 59.97
    await pos.add(order["id"], await taxed_service(db, "Bath", "12.50", reduced), 1)
    await pos.add(order["id"], await taxed_product(db, "BOWL", "7.03"), 1)
    given = await pos.ok(DISCOUNT, {"o": order["id"], "p": "10", "r": "regular"})
    assert amounts(given["order"], "subtotal", "manualDiscount") == ("79.50", "7.95")
    assert given["order"]["discountReason"] == "regular"
    # The order shows the tax before coupon and points: on 71.55 shared across the lines.
    assert amounts(given["order"], "tax", "total") == (order_tax, order_total)

    await shop.coupon("FIVE", kind="FIXED", value="5.00")
    paid = await pos.ok(PAY, pay(order["id"], couponCode="five", redeemPoints=250))
    sale = paid["sale"]
    # 79.50 - 7.95 staff - 5.00 coupon - 2.50 points = 64.05, shared 48.32 / 10.07 / 5.66.
    assert amounts(sale, "manualDiscount", "couponDiscount", "pointsDiscount") == ("7.95", "5.00", "2.50")
    assert [l["netTotal"]["amount"] for l in sale["lines"]] == ["48.32", "10.07", "5.66"]
    assert [l["taxRate"] for l in sale["lines"]] == ["8.250", "5.000", None]
    assert [l["tax"]["amount"] for l in sale["lines"]] == line_taxes
    assert amounts(sale, "tax", "total") == (tax, total)
    assert sale["pricesIncludeTax"] is included


async def test_a_sold_line_keeps_its_rate_while_orders_show_the_rate_of_now(db, pos):
    rate = await tax_rate(db, "10")
    treat = await taxed_product(db, "TREAT", "10.00", rate)
    sold = await pos.order()
    await pos.add(sold["id"], treat, 1)
    sale = (await pos.ok(PAY, pay(sold["id"])))["sale"]
    assert amounts(sale, "tax", "total") == ("1.00", "11.00")
    open_order = await pos.order()
    await pos.add(open_order["id"], treat, 1)

    await set_rate(db, rate.id, rate="20")
    again = (await pos.gql(SALE, {"id": sale["id"]}, token=pos.token))["data"]["sale"]
    assert (again["lines"][0]["taxRate"], amounts(again, "tax", "total")) == ("10.000", ("1.00", "11.00"))
    shown = (await pos.gql(ORDER, {"id": open_order["id"]}, token=pos.token))["data"]["saleOrder"]
    assert amounts(shown, "tax", "total") == ("2.00", "12.00")

    await set_rate(db, rate.id, active=False)  # retired: no longer charged
    shown = (await pos.gql(ORDER, {"id": open_order["id"]}, token=pos.token))["data"]["saleOrder"]
    assert amounts(shown, "tax", "total") == ("0.00", "10.00")
    paid = (await pos.ok(PAY, pay(open_order["id"])))["sale"]
    assert (paid["lines"][0]["taxRate"], amounts(paid, "tax", "total")) == (None, ("0.00", "10.00"))


async def test_checkout_charges_the_rate_in_force_when_it_runs_not_the_one_the_order_showed(db, pos):
    rate = await tax_rate(db, "10")
    order = await pos.order()
    await pos.add(order["id"], await taxed_product(db, "LEAD", "20.00", rate), 1)
    assert amounts(await pos.read(order["id"]), "total") == ("22.00",)
    await set_rate(db, rate.id, rate="5")
    sale = (await pos.ok(PAY, pay(order["id"])))["sale"]
    assert amounts(sale, "tax", "total") == ("1.00", "21.00")
    async with db.read() as session:
        row = await session.get(Sale, uuid.UUID(sale["id"]))
        line = (await session.scalars(select(SaleLine).where(SaleLine.sale_id == row.id))).one()
    assert (row.tax, line.tax_rate, line.tax) == (D("1.00"), D("5.000"), D("1.00"))


async def test_an_add_answers_the_order_total_with_its_staff_discount_and_tax(db, pos):
    """The add's payload takes its subtotal from the add statement, and its total still reckons the
    staff discount and the tax of every line, as a fresh read of the order does."""
    from tests.pos.conftest import ORDER
    from tests.pos.test_manual_discount import DISCOUNT

    rate = await tax_rate(db, "8.25")
    order = await pos.order()
    await pos.add(order["id"], await taxed_product(db, "BED", "40.00", rate), 1)
    await pos.ok(DISCOUNT, {"o": order["id"], "p": "10", "r": "regular"})
    added = (await pos.add(order["id"], await taxed_product(db, "BOWL", "10.00"), 1))["order"]
    # 50.00 less 10% = 45.00: the bed's 36.00 taxed 2.97, the bowl untaxed.
    assert (added["subtotal"]["amount"], added["total"]["amount"]) == ("50.00", "47.97")
    fresh = (await pos.gql(ORDER, {"id": order["id"]}, token=pos.token))["data"]["saleOrder"]
    assert fresh["total"] == added["total"]
