"""Every commerce mutation locks its coordinating row before it writes anything,
and checkout and refunds cost the same server statements however many lines they have."""

import re

from tests.commerce.shop import ADD, CHECKOUT, REFUND
from tests.commerce.statements import record_statements
from tests.sql_recorder import record_sql


async def _cart(gql, users, products, quantity=1):
    user, token = await users.signed_in()
    for product in products:
        await gql(ADD, {"p": str(product.id), "q": quantity}, token=token)
    return user, token


async def test_checkout_locks_cart_products_coupon_customer_in_the_global_order_before_writing(
    gql, users, shop, db
):
    products = [await shop.product() for _ in range(2)]
    _, token = await _cart(gql, users, products)
    await shop.coupon("TEN")
    await gql('mutation { applyCoupon(code: "TEN") { errors { code } } }', token=token)
    with record_sql(db.engine) as sql:
        payload = (await gql(CHECKOUT, {"k": "k", "r": 0}, token=token))["data"]["checkout"]
    assert payload["errors"] == []
    sql.assert_locks_before_write("carts")
    cart, products, coupon, customer = (sql.locks(t) for t in ("carts", "products", "coupons", "users"))
    key_lookup = [i for i, statement in enumerate(sql) if re.search(r"\bFROM idempotency_keys\b", statement)]
    assert len(products) == 1  # every product of the basket in one statement, in id order
    assert "ORDER BY products.id" in sql[products[0]]
    # The key is looked up only once the cart is locked, so a double submit waits and then replays.
    assert cart[0] < key_lookup[0] < products[0] < coupon[0] < customer[0] < sql.writes()[0]


async def test_checkout_and_refund_cost_the_same_server_statements_for_one_line_or_twenty(
    gql, users, shop, db
):
    """Set-based writes: no statement per line, not even one hidden in an executemany."""
    _, staff = await users.signed_in("STAFF")
    costs = {}
    for lines in (1, 20):
        products = [await shop.product() for _ in range(lines)]
        _, token = await _cart(gql, users, products)
        with record_statements(db.engine) as checkout:
            payload = (await gql(CHECKOUT, {"k": "k", "r": 0}, token=token))["data"]["checkout"]
        assert payload["errors"] == [] and len(payload["sale"]["lines"]) == lines
        with record_statements(db.engine) as refund:
            refunded = (
                await gql(
                    REFUND,
                    {
                        "i": {
                            "saleId": payload["sale"]["id"],
                            "reason": "return",
                            "idempotencyKey": f"r{lines}",
                        }
                    },
                    token=staff,
                )
            )["data"]["refundSale"]
        assert refunded["errors"] == [] and len(refunded["refund"]["lines"]) == lines
        costs[lines] = {
            name: (recorded.client_calls(), recorded.server_statements(), recorded.executemanys())
            for name, recorded in (("checkout", checkout), ("refund", refund))
        }
    print(f"(client calls, server statements, executemanys) by lines: {costs}")
    for name in ("checkout", "refund"):
        assert costs[1][name][2] == costs[20][name][2] == [], name
        assert costs[1][name][1] == costs[20][name][1], name


async def test_refund_locks_the_sale_before_writing(gql, users, shop, db):
    product = await shop.product()
    _, token = await _cart(gql, users, [product], quantity=2)
    sale = (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]["sale"]
    _, staff = await users.signed_in("STAFF")
    with record_sql(db.engine) as sql:
        payload = (
            await gql(
                REFUND, {"i": {"saleId": sale["id"], "reason": "damaged", "idempotencyKey": "r"}}, token=staff
            )
        )["data"]["refundSale"]
    assert payload["errors"] == []
    sql.assert_locks_before_write("sales")
    assert sql.locks("sales")[0] < sql.locks("products")[0] < sql.locks("users")[-1] < sql.writes()[0]


async def test_adjust_stock_locks_the_product_before_writing(gql, users, shop, db):
    product = await shop.product(stock=3)
    _, staff = await users.signed_in("STAFF")
    with record_sql(db.engine) as sql:
        payload = await gql(
            "mutation($p: ID!) { adjustStock(productId: $p, delta: 5, reason: RESTOCK) { product { "
            "stock } errors { code } } }",
            {"p": str(product.id)},
            token=staff,
        )
    assert payload["data"]["adjustStock"] == {"product": {"stock": 8}, "errors": []}
    sql.assert_locks_before_write("products")
    assert await shop.stock(product.id) == (8, 8)


async def test_add_to_cart_locks_the_cart_before_writing(gql, users, shop, db):
    product = await shop.product()
    _, token = await _cart(gql, users, [product])  # the cart row exists from the first add
    with record_sql(db.engine) as sql:
        payload = (await gql(ADD, {"p": str(product.id), "q": 2}, token=token))["data"]["addToCart"]
    assert payload["cart"]["items"] == [{"quantity": 3}]
    sql.assert_locks_before_write("carts")


async def test_apply_coupon_locks_the_cart_before_writing(gql, users, shop, db):
    product = await shop.product()
    _, token = await _cart(gql, users, [product])
    await shop.coupon("TEN")
    with record_sql(db.engine) as sql:
        payload = await gql(
            'mutation { applyCoupon(code: "ten") { cart { coupon { code } } errors { code } } }', token=token
        )
    assert payload["data"]["applyCoupon"] == {"cart": {"coupon": {"code": "TEN"}}, "errors": []}
    sql.assert_locks_before_write("carts")


async def test_shop_queries_take_no_locks_and_write_nothing(gql, users, shop, db):
    product = await shop.product()
    user, token = await _cart(gql, users, [product])
    await gql(CHECKOUT, {"k": "k"}, token=token)
    _, staff = await users.signed_in("STAFF")
    await shop.coupon("TEN")
    _, admin = await users.signed_in("ADMIN")
    with record_sql(db.engine) as sql:
        for query, who in (
            ("{ products { edges { node { sku price { amount currency } } } } services { name } }", None),
            (
                "{ myCart { items { quantity } total { amount } } mySales { edges { node { number "
                "lines { name } customer { email } refunds { amount { amount } } } } } }",
                token,
            ),
            ("{ sales { edges { node { number customer { email } } } } }", staff),
            ("{ coupons { code timesUsed } }", admin),
        ):
            result = await gql(query, token=who)
            assert "errors" not in result, result
    assert sql.count() > 0
    sql.assert_no_locks_or_writes()


async def test_listing_sales_with_refunds_costs_the_same_statements_for_two_or_twelve(gql, users, shop, db):
    product = await shop.product(stock=100)
    _, staff = await users.signed_in("STAFF")
    query = """{ sales(first: 50) { edges { node { number lines { name } customer { email }
                 refunds { amount { amount }
                           lines { quantity amount { amount } saleLine { name } } } } } } }"""
    counts, listed = [], 0
    for sales in (2, 10):
        listed += sales
        for _ in range(sales):
            _, token = await _cart(gql, users, [product], quantity=2)
            sale = (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]["sale"]
            refund = (
                await gql(
                    REFUND,
                    {
                        "i": {
                            "saleId": sale["id"],
                            "reason": "return",
                            "idempotencyKey": sale["id"],
                            "lines": [{"saleLineId": sale["lines"][0]["id"], "quantity": 1}],
                        }
                    },
                    token=staff,
                )
            )["data"]["refundSale"]
            assert refund["errors"] == []
        with record_sql(db.engine) as sql:
            result = await gql(query, token=staff)
        assert "errors" not in result
        edges = result["data"]["sales"]["edges"]
        assert len(edges) == listed and all(len(e["node"]["refunds"][0]["lines"]) == 1 for e in edges)
        counts.append(sql.count())
    assert counts[0] == counts[1]
