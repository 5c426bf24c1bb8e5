"""An idempotency key belongs to one operation: the key of a checkout sent again with its refund is
a refund of its own, not the checkout replayed or refused as reused."""

from tests.shifts.drawer import PAY, REFUND, order_of


async def test_one_key_for_a_checkout_and_then_its_refund_is_two_requests(pos):
    chew = await pos.product("Chew", "2.00")
    order_id = await order_of(pos, chew)
    pay = {"i": {"orderId": order_id, "idempotencyKey": "same", "paymentMethod": "CARD"}}
    sale = (await pos.ok(PAY, pay))["sale"]
    refund = await pos.ok(REFUND, {"i": {"saleId": sale["id"], "reason": "back", "idempotencyKey": "same"}})
    assert refund["refund"]["amount"]["amount"] == "2.00" and refund["refund"]["id"] != sale["id"]
