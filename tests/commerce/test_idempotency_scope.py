"""An idempotency key belongs to one account: the same key and request from another customer is a
sale of its own (tests/pos/test_idempotency_scope.py: and to one operation)."""

from tests.commerce.shop import ADD, CHECKOUT


async def test_two_customers_sending_one_key_and_one_request_each_get_their_own_sale(gql, users, shop):
    product = await shop.product(price="4.00", stock=5)
    sales = []
    for _ in range(2):
        _, token = await users.signed_in()
        await gql(ADD, {"p": str(product.id), "q": 1}, token=token)
        paid = (await gql(CHECKOUT, {"k": "checkout-1"}, token=token))["data"]["checkout"]
        assert (paid["errors"], paid["replayed"]) == ([], False)
        sales.append(paid["sale"]["number"])
    assert sales == ["S-000001", "S-000002"]
    assert await shop.stock(product.id) == (3, 3)
