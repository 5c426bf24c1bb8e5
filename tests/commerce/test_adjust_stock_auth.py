"""adjustStock is for STAFF and ADMIN only: a customer is refused FORBIDDEN, anonymous
UNAUTHENTICATED, and the stock is untouched."""

ADJUST = (
    "mutation($p: ID!) { adjustStock(productId: $p, delta: 5, reason: RESTOCK) { errors { code field } } }"
)


async def test_only_staff_and_admins_adjust_stock(gql, users, shop):
    product = await shop.product(stock=2)
    _, customer = await users.signed_in()
    for token, code in ((customer, "FORBIDDEN"), (None, "UNAUTHENTICATED")):
        result = await gql(ADJUST, {"p": str(product.id)}, token=token)
        assert result["data"] is None and result["errors"][0]["extensions"]["code"] == code, result
    assert await shop.stock(product.id) == (2, 2)
    _, staff = await users.signed_in("STAFF")
    assert (await gql(ADJUST, {"p": str(product.id)}, token=staff))["data"]["adjustStock"]["errors"] == []
