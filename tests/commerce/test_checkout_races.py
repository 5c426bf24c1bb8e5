"""The seed pull request's test plan for checkout: real concurrent customers, real commits."""

import asyncio
import itertools
from decimal import Decimal

from prometheus_client import REGISTRY
from sqlalchemy import func, select

from app.domain.catalog.models import Product
from app.domain.coupons.models import Coupon
from app.domain.locks import lock_rows
from app.domain.sales.models import Cart, Sale
from app.domain.sales.recording import Payment, SaleItem, record_sale
from app.domain.uow import DEADLOCK
from tests.commerce.shop import ADD, CHECKOUT
from tests.invariants import assert_invariants
from tests.races import row_lock_held, unit_held, wait_for_lock_waiters


async def _customer_with_cart(users, gql, items):
    user, token = await users.signed_in()
    for product, quantity in items:
        added = await gql(ADD, {"p": str(product.id), "q": quantity}, token=token)
        assert added["data"]["addToCart"]["errors"] == [], added
    return user, token


async def _sales_count(db) -> int:
    async with db.read() as s:
        return await s.scalar(select(func.count()).select_from(Sale))


async def _sale_numbers(db) -> list[str]:
    async with db.read() as s:
        return sorted(await s.scalars(select(Sale.number)))


def _gap_free(count: int) -> list[str]:
    """S-000001 … S-00000n: a refused checkout draws no number."""
    return [f"S-{n:06d}" for n in range(1, count + 1)]


def _deadlock_retries() -> float:
    """Checkouts rerun after a deadlock: the unit of work retries them, so clients never see one."""
    return (
        REGISTRY.get_sample_value(
            "petpos_lock_retries_total", {"operation": "checkout", "sqlstate": DEADLOCK}
        )
        or 0.0
    )


async def test_twenty_customers_racing_for_five_units_make_exactly_five_sales(gql, users, shop, db):
    product = await shop.product(stock=5)
    tokens = [(await _customer_with_cart(users, gql, [(product, 1)]))[1] for _ in range(20)]
    # The product row held: all twenty checkouts queue on it, each to decide the stock once it is theirs.
    async with row_lock_held(db, Product, product.id):
        checkouts = [asyncio.create_task(gql(CHECKOUT, {"k": "buy"}, token=t)) for t in tokens]
        await wait_for_lock_waiters(db, 20, table="products", racers=checkouts)
    payloads = [r["data"]["checkout"] for r in await asyncio.gather(*checkouts)]
    sold = [p for p in payloads if p["sale"]]
    refused = [p["errors"] for p in payloads if p["errors"]]
    assert len(sold) == 5
    # Refused by the check made under the lock, naming the cart line; not by the CHECK (stock >= 0)
    # behind it, which knows no line.
    short = {
        "code": "INSUFFICIENT_STOCK",
        "field": "cart.items.0",
        "message": f"Only 0 of {product.name} left, 1 wanted",
    }
    assert refused == [[short]] * 15
    assert await shop.stock(product.id) == (0, 0)
    assert sorted(p["sale"]["number"] for p in sold) == await _sale_numbers(db) == _gap_free(5)
    await assert_invariants(db)


async def test_two_sales_of_one_customer_redeeming_the_whole_balance_discount_once(gql, users, shop, db):
    """An online checkout and a counter sale of one customer, each redeeming all 30 points.
    They share only the customer's row (different products, no coupon): the counter sale holds
    its lock until commit, the checkout queues on it and then finds the points spent."""
    online, counter = await shop.product(stock=10, price="30.00"), await shop.product(stock=10, price="30.00")
    customer, token = await _customer_with_cart(users, gql, [(online, 1)])
    assert (await gql(CHECKOUT, {"k": "earn"}, token=token))["data"]["checkout"]["sale"]["pointsEarned"] == 30
    await gql(ADD, {"p": str(online.id), "q": 1}, token=token)
    staff = await users.create("STAFF")

    async def counter_sale(uow):
        return await record_sale(
            uow,
            channel="POS",
            items=[SaleItem("PRODUCT", counter.id, 1)],
            customer_id=customer.id,
            coupon_id=None,
            redeem_points=30,
            payment=Payment("CARD"),
            by=staff.id,
        )

    # The counter sale commits only once the checkout is queued on the customer's row.
    async with unit_held(db, counter_sale) as counter_task:
        checkout = asyncio.create_task(gql(CHECKOUT, {"k": "redeem", "r": 30}, token=token))
        await wait_for_lock_waiters(db, 1, table="users", racers=[checkout])
    counter_won = await counter_task
    lost = (await checkout)["data"]["checkout"]

    assert counter_won.points_discount == Decimal("0.30")
    assert lost["sale"] is None
    assert [(e["code"], e["field"]) for e in lost["errors"]] == [("INSUFFICIENT_POINTS", "redeemPoints")]
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Sale).where(Sale.points_redeemed > 0)) == 1
    balance, ledger = await shop.points(customer.id)
    assert balance == ledger == 30 - 30 + 29  # earned, redeemed once, earned by the counter sale
    assert await shop.stock(online.id) == (9, 9)


async def test_double_submitted_checkout_makes_one_sale(gql, users, shop, db):
    product = await shop.product(stock=10)
    customer, token = await _customer_with_cart(users, gql, [(product, 2)])
    async with db.read() as s:
        cart_id = await s.scalar(select(Cart.id).where(Cart.customer_id == customer.id))
    async with row_lock_held(db, Cart, cart_id):
        taps = [asyncio.create_task(gql(CHECKOUT, {"k": "tap"}, token=token)) for _ in range(5)]
        await wait_for_lock_waiters(db, 5, table="carts", racers=taps)  # all five queued on the cart row
    payloads = [r["data"]["checkout"] for r in await asyncio.gather(*taps)]
    assert all(p["errors"] == [] for p in payloads), payloads
    assert {p["sale"]["id"] for p in payloads} == {payloads[0]["sale"]["id"]}
    assert sorted(p["replayed"] for p in payloads) == [False, True, True, True, True]
    assert await _sales_count(db) == 1
    assert await shop.stock(product.id) == (8, 8)
    await assert_invariants(db)


async def test_same_key_with_a_different_request_is_refused(gql, users, shop):
    product = await shop.product(stock=10)
    _, token = await _customer_with_cart(users, gql, [(product, 1)])
    await gql(CHECKOUT, {"k": "k1", "r": 0}, token=token)
    await gql(ADD, {"p": str(product.id), "q": 1}, token=token)
    reused = (await gql(CHECKOUT, {"k": "k1", "r": 5}, token=token))["data"]["checkout"]
    assert reused["errors"] == [
        {
            "code": "IDEMPOTENCY_KEY_REUSED",
            "field": "idempotencyKey",
            "message": "This idempotency key was already used for a different request",
        }
    ]
    assert await shop.stock(product.id) == (9, 9)


async def test_coupon_at_its_usage_limit_refuses_the_extra_checkouts(gql, users, shop, db):
    coupon = await shop.coupon("TWICE", usage_limit=2)
    tokens = []
    for _ in range(10):
        # Each customer buys a product of their own: the coupon row is all ten checkouts share.
        _, token = await _customer_with_cart(users, gql, [(await shop.product(stock=1), 1)])
        applied = await gql('mutation { applyCoupon(code: "twice") { errors { code } } }', token=token)
        assert applied["data"]["applyCoupon"]["errors"] == []
        tokens.append(token)
    async with row_lock_held(db, Coupon, coupon.id):
        checkouts = [asyncio.create_task(gql(CHECKOUT, {"k": "c"}, token=t)) for t in tokens]
        await wait_for_lock_waiters(
            db, 10, table="coupons", racers=checkouts
        )  # all ten queued on the coupon row
    payloads = [r["data"]["checkout"] for r in await asyncio.gather(*checkouts)]
    sold = [p["sale"] for p in payloads if p["sale"]]
    assert [s["couponCode"] for s in sold] == ["TWICE", "TWICE"]
    assert (
        sorted(p["errors"][0]["code"] for p in payloads if p["errors"]) == ["COUPON_USAGE_LIMIT_REACHED"] * 8
    )
    async with db.read() as s:
        assert (await s.get(Coupon, coupon.id)).times_used == 2
    assert sorted(s["number"] for s in sold) == await _sale_numbers(db) == _gap_free(2)
    await assert_invariants(db)


async def test_overlapping_baskets_in_every_order_neither_deadlock_nor_oversell(gql, users, shop, db):
    products = [await shop.product(stock=4) for _ in range(3)]
    # Six customers, each basket the three products added in a different order: 6 x 1 of each, 4 in stock.
    tokens = [
        (await _customer_with_cart(users, gql, [(p, 1) for p in order]))[1]
        for order in itertools.permutations(products)
    ]
    deadlocks = _deadlock_retries()
    # The three products held together: all six checkouts queue on them, then go at once. Checkouts
    # that locked the products in basket order would each get the first product of their basket and
    # wait for another's: a cycle, so a deadlock, whichever of them gets each product first.
    async with unit_held(db, lambda uow: lock_rows(uow, Product, [p.id for p in products])):
        checkouts = [asyncio.create_task(gql(CHECKOUT, {"k": "k"}, token=t)) for t in tokens]
        await wait_for_lock_waiters(db, 6, table="products", racers=checkouts)
    results = await asyncio.gather(*checkouts)
    payloads = [r["data"]["checkout"] for r in results]
    assert all("errors" not in r for r in results)  # no top-level error: no INTERNAL
    assert _deadlock_retries() == deadlocks  # not even one retried out of sight: products lock in id order
    assert sum(1 for p in payloads if p["sale"]) == 4
    assert all(p["errors"][0]["code"] == "INSUFFICIENT_STOCK" for p in payloads if not p["sale"])
    for p in products:
        assert await shop.stock(p.id) == (0, 0)
    await assert_invariants(db)


async def test_a_shortfall_names_every_short_product_and_changes_nothing(gql, users, shop, db):
    plenty, scarce, gone = (
        await shop.product(stock=50),
        await shop.product(stock=1, name="Catnip"),
        await shop.product(stock=3, name="Kibble"),
    )
    user, token = await _customer_with_cart(users, gql, [(plenty, 2), (scarce, 1), (gone, 3)])
    await shop.unit(
        lambda uow: __import__("app.domain.catalog.service", fromlist=["x"]).adjust_stock(
            uow, product_id=scarce.id, delta=-1, reason="ADJUSTMENT", note=None
        )
    )
    await shop.unit(
        lambda uow: __import__("app.domain.catalog.service", fromlist=["x"]).adjust_stock(
            uow, product_id=gone.id, delta=-2, reason="ADJUSTMENT", note=None
        )
    )
    payload = (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]
    assert payload["sale"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("INSUFFICIENT_STOCK", "cart.items.1"),
        ("INSUFFICIENT_STOCK", "cart.items.2"),
    ]
    assert "Catnip" in payload["errors"][0]["message"] and "Kibble" in payload["errors"][1]["message"]
    assert await shop.stock(plenty.id) == (50, 50)
    assert await _sales_count(db) == 0
    cart = await gql("{ myCart { items { quantity } } }", token=token)
    assert [i["quantity"] for i in cart["data"]["myCart"]["items"]] == [2, 1, 3]  # the cart is kept


async def test_empty_cart_has_nothing_to_check_out(gql, users, shop):
    _, token = await users.signed_in()
    payload = (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]
    assert payload["errors"][0]["code"] == "NOTHING_TO_CHECK_OUT"
    product = await shop.product()
    added = await gql(ADD, {"p": str(product.id), "q": 1}, token=token)
    assert added["data"]["addToCart"]["errors"] == []
    emptied = await gql(
        "mutation($p: ID!) { updateCartItem(productId: $p, quantity: 0) { errors { code } "
        "cart { items { quantity } } } }",
        {"p": str(product.id)},
        token=token,
    )
    assert emptied["data"]["updateCartItem"] == {"errors": [], "cart": {"items": []}}
    payload = (await gql(CHECKOUT, {"k": "k2"}, token=token))["data"]["checkout"]
    assert payload["errors"][0]["code"] == "NOTHING_TO_CHECK_OUT"


async def test_checkout_totals_coupon_points_and_sale_numbers(gql, users, shop):
    product = await shop.product(stock=100, price="12.50")
    await shop.coupon("TEN", kind="FIXED", value="10.00", min_subtotal=Decimal("20"))
    user, token = await _customer_with_cart(users, gql, [(product, 4)])  # 50.00
    first = (await gql(CHECKOUT, {"k": "a"}, token=token))["data"]["checkout"]["sale"]
    assert (first["number"], first["total"]["amount"], first["pointsEarned"]) == ("S-000001", "50.00", 50)
    await gql(ADD, {"p": str(product.id), "q": 2}, token=token)  # 25.00
    assert (await gql('mutation { applyCoupon(code: "ten") { errors { code } } }', token=token))["data"][
        "applyCoupon"
    ]["errors"] == []
    second = (await gql(CHECKOUT, {"k": "b", "r": 50}, token=token))["data"]["checkout"]["sale"]
    assert second["number"] == "S-000002"
    assert (
        second["subtotal"]["amount"],
        second["couponDiscount"]["amount"],
        second["pointsDiscount"]["amount"],
        second["total"]["amount"],
        second["pointsEarned"],
    ) == ("25.00", "10.00", "0.50", "14.50", 14)
    assert await shop.points(user.id) == (50 - 50 + 14, 14)


async def test_redeeming_more_than_the_amount_due_is_refused(gql, users, shop):
    product = await shop.product(stock=100, price="1.00")
    _, token = await _customer_with_cart(users, gql, [(product, 1)])
    payload = (await gql(CHECKOUT, {"k": "a", "r": 101}, token=token))["data"]["checkout"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", "redeemPoints")]
    payload = (await gql(CHECKOUT, {"k": "b", "r": 100}, token=token))["data"]["checkout"]
    assert payload["errors"][0]["code"] == "INSUFFICIENT_POINTS"


async def test_negative_points_are_refused_and_nothing_changes(gql, users, shop, db):
    product = await shop.product(stock=5)
    _, token = await _customer_with_cart(users, gql, [(product, 1)])
    payload = (await gql(CHECKOUT, {"k": "a", "r": -1}, token=token))["data"]["checkout"]
    assert (payload["sale"], [(e["code"], e["field"]) for e in payload["errors"]]) == (
        None,
        [("VALIDATION", "redeemPoints")],
    )
    assert await _sales_count(db) == 0 and await shop.stock(product.id) == (5, 5)
    # The refused request left no trace: not even its idempotency key.
    assert (await gql(CHECKOUT, {"k": "a", "r": 0}, token=token))["data"]["checkout"]["errors"] == []


async def test_stock_restocked_while_a_sale_takes_some_keeps_both_changes(gql, users, shop, db):
    """Both write the product's stock: queued on its row, the restock sees the sale's units gone."""
    product = await shop.product(stock=10)
    _, token = await users.signed_in()
    _, staff = await users.signed_in("STAFF")
    await gql(ADD, {"p": str(product.id), "q": 1}, token=token)
    restock = (
        "mutation($p: ID!) { adjustStock(productId: $p, delta: 5, reason: RESTOCK) { errors { code } } }"
    )
    async with row_lock_held(db, Product, product.id):
        checkout = asyncio.create_task(gql(CHECKOUT, {"k": "k"}, token=token))
        await wait_for_lock_waiters(db, 1, table="products", racers=[checkout])
        adjust = asyncio.create_task(gql(restock, {"p": str(product.id)}, token=staff))
        await wait_for_lock_waiters(db, 2, table="products", racers=[checkout, adjust])
    assert (await checkout)["data"]["checkout"]["errors"] == []
    assert (await adjust)["data"]["adjustStock"]["errors"] == []
    assert await shop.stock(product.id) == (14, 14)
