"""A cart line checkout would refuse (its product retired, or fewer in stock than the quantity)
says why in its `problem`, with the very error checkout gives; the app can show it before checkout."""

from sqlalchemy import update

from app.domain.catalog.models import Product
from tests.commerce.shop import ADD, CHECKOUT

CART = "{ myCart { items { product { sku } quantity problem { code message field } } } }"


async def test_each_line_says_why_checkout_would_refuse_it_as_checkout_says_it(gql, users, shop, db):
    fine = await shop.product(price="5.00", stock=10)
    retired = await shop.product(price="6.00", stock=10)
    short = await shop.product(price="7.00", stock=3)
    _, token = await users.signed_in()
    for product, quantity in ((fine, 2), (retired, 1), (short, 3)):
        added = await gql(ADD, {"p": str(product.id), "q": quantity}, token=token)
        assert added["data"]["addToCart"]["errors"] == []
    items = (await gql(CART, token=token))["data"]["myCart"]["items"]
    assert [item["problem"] for item in items] == [None, None, None]

    async with db.engine.begin() as connection:  # staff retire one; a sale at the counter takes two
        await connection.execute(update(Product).where(Product.id == retired.id).values(active=False))
        await connection.execute(update(Product).where(Product.id == short.id).values(stock=1))
    items = (await gql(CART, token=token))["data"]["myCart"]["items"]
    problems = [item["problem"] for item in items]
    assert problems == [
        None,
        {"code": "NOT_FOUND", "message": "This item is not for sale", "field": "cart.items.1.product"},
        {
            "code": "INSUFFICIENT_STOCK",
            "message": f"Only 1 of {short.name} left, 3 wanted",
            "field": "cart.items.2",
        },
    ]
    refused = (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]
    assert sorted(refused["errors"], key=lambda e: e["field"]) == problems[1:]
