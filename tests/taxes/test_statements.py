"""Taxed checkouts and their refunds cost the same server statements for one line or twenty:
the rates are read in one statement, the lines and refund lines written in one each."""

from __future__ import annotations

import uuid

from tests.commerce.statements import record_statements
from tests.taxes.helpers import tax_rate, taxed_product

ADD = "mutation($p: ID!, $q: Int!) { addToCart(productId: $p, quantity: $q) { errors { code } } }"
CHECKOUT = """mutation($k: String!) { checkout(input: {idempotencyKey: $k}) {
  errors { code } sale { id tax { amount } lines { id } } } }"""
PAY = """mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) {
  errors { code } sale { id tax { amount } lines { id } } } }"""
DISCOUNT = """mutation($o: ID!) { setSaleOrderDiscount(orderId: $o, percent: "10", reason: "regular") {
  errors { code } } }"""
REFUND = """mutation($i: RefundInput!) { refundSale(input: $i) {
  errors { code } refund { tax { amount } lines { tax { amount } } } } }"""


def costs(recorded) -> tuple[int, list[str]]:
    return recorded.server_statements(), recorded.executemanys()


async def test_taxed_online_and_pos_checkouts_and_refunds_cost_the_same_for_one_line_or_twenty(
    gql, users, db, pos
):
    rates = [await tax_rate(db, rate) for rate in ("5", "8.25", "20")]
    _, staff = await users.signed_in("STAFF")
    seen: dict[int, dict[str, tuple[int, list[str]]]] = {}
    for lines in (1, 20):
        products = [
            await taxed_product(db, f"P{uuid.uuid4().hex[:8]}".upper(), "9.99", rates[i % 3])
            for i in range(lines)
        ]
        _, customer = await users.signed_in("CUSTOMER")
        for product in products:
            await gql(ADD, {"p": str(product.id), "q": 2}, token=customer)
        with record_statements(db.engine) as online:
            sold = (await gql(CHECKOUT, {"k": "k"}, token=customer))["data"]["checkout"]
        order = await pos.order()
        for product in products:
            await pos.add(order["id"], product, 2)
        await pos.ok(DISCOUNT, {"o": order["id"]})
        with record_statements(db.engine) as counter:
            rung = await pos.ok(
                PAY, {"i": {"orderId": order["id"], "idempotencyKey": f"k{lines}", "paymentMethod": "CARD"}}
            )
        refunded = {}
        for name, sale in (("online", sold["sale"]), ("pos", rung["sale"])):
            assert len(sale["lines"]) == lines and sale["tax"]["amount"] != "0.00"
            with record_statements(db.engine) as refund:
                result = await gql(
                    REFUND,
                    {"i": {"saleId": sale["id"], "reason": "back", "idempotencyKey": f"{name}{lines}"}},
                    token=staff,
                )
            assert result["data"]["refundSale"]["refund"]["tax"] == sale["tax"]
            refunded[name] = costs(refund)
        seen[lines] = {
            "online": costs(online),
            "pos": costs(counter),
            "online refund": refunded["online"],
            "pos refund": refunded["pos"],
        }
    print(f"(server statements, executemanys) by lines: {seen}")
    assert seen[1] == seen[20]
    assert all(executemanys == [] for _, executemanys in seen[1].values())
