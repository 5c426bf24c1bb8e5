"""The seed pull request's test plan for checkout: real concurrent customers, real commits."""
import asyncio
import itertools
from decimal import Decimal

from sqlalchemy import func, select

from app.domain.coupons.models import Coupon
from app.domain.sales.models import Sale
from app.domain.errors import DomainError
from tests.commerce.shop import ADD, CHECKOUT
from tests.races import wait_for_lock_waiters


async def _customer_with_cart(users, gql, items):
    user, token = await users.signed_in()
    for product, quantity in items:
        added = await gql(ADD, {"p": str(product.id), "q": quantity}, token=token)
        assert added["data"]["addToCart"]["errors"] == [], added
    return user, token


async def _sales_count(db) -> int:
    async with db.read() as s:
        return await s.scalar(select(func.count()).select_from(Sale))


async def test_twenty_customers_racing_for_five_units_make_exactly_five_sales(gql, users, shop, db):
    product = await shop.product(stock=5)
    tokens = [(await _customer_with_cart(users, gql, [(product, 1)]))[1] for _ in range(20)]
    results = await asyncio.gather(*[gql(CHECKOUT, {"k": "buy"}, token=t) for t in tokens])
    payloads = [r["data"]["checkout"] for r in results]
    sold = [p for p in payloads if p["sale"]]
    refused = [p["errors"][0]["code"] for p in payloads if p["errors"]]
    assert len(sold) == 5 and refused == ["INSUFFICIENT_STOCK"] * 15
    assert await shop.stock(product.id) == (0, 0)
    assert await _sales_count(db) == 5


async def test_simultaneous_point_redemptions_do_not_double_discount(gql, users, shop, db):
    product = await shop.product(stock=100, price="30.00")
    user, token = await _customer_with_cart(users, gql, [(product, 1)])
    first = (await gql(CHECKOUT, {"k": "earn"}, token=token))["data"]["checkout"]
    assert first["sale"]["pointsEarned"] == 30
    await gql(ADD, {"p": str(product.id), "q": 1}, token=token)
    # Two devices of one customer redeem the whole balance at the same moment.
    results = await asyncio.gather(*[gql(CHECKOUT, {"k": f"redeem-{i}", "r": 30}, token=token) for i in range(2)])
    payloads = [r["data"]["checkout"] for r in results]
    won = [p for p in payloads if p["sale"]]
    lost = [p for p in payloads if p["errors"]]
    assert len(won) == 1 and won[0]["sale"]["pointsDiscount"]["amount"] == "0.30"
    # The loser found either no points left or an empty cart: never a second discount.
    assert lost[0]["errors"][0]["code"] in ("INSUFFICIENT_POINTS", "NOTHING_TO_CHECK_OUT")
    balance, ledger = await shop.points(user.id)
    assert balance == ledger == 30 - 30 + 29


async def test_a_redemption_waiting_for_the_user_lock_sees_the_balance_spent(db, users, shop):
    """Two sales for one customer redeeming the whole balance, forced to overlap: the
    first holds the customer's row lock; the second waits for it, then finds 0 points."""
    from app.domain.sales.recording import Payment, SaleItem, record_sale

    product = await shop.product(stock=100, price="30.00")
    user = await users.create()
    staff = await users.create("STAFF")

    def sale(redeem):
        return lambda uow: record_sale(uow, channel="POS", items=[SaleItem("PRODUCT", product.id, 1)],
                                       customer_id=user.id, coupon_id=None, redeem_points=redeem,
                                       payment=Payment("CARD"), by=staff.id)
    await shop.unit(sale(0))  # earns 30 points
    recorded, release = asyncio.Event(), asyncio.Event()

    async def first(uow):
        result = await sale(30)(uow)
        recorded.set()
        await release.wait()  # commit only once the second is queued behind our locks
        return result

    first_task = asyncio.create_task(shop.unit(first))
    await recorded.wait()
    second_task = asyncio.create_task(shop.unit(sale(30)))
    await wait_for_lock_waiters(db, 1)
    release.set()
    won = await first_task
    assert won.points_discount == Decimal("0.30")
    try:
        await second_task
        raise AssertionError("the second redemption went through")
    except DomainError as error:
        assert (error.code, error.field) == ("INSUFFICIENT_POINTS", "redeemPoints")
    balance, ledger = await shop.points(user.id)
    assert balance == ledger == 30 - 30 + 29


async def test_double_submitted_checkout_makes_one_sale(gql, users, shop, db):
    product = await shop.product(stock=10)
    _, token = await _customer_with_cart(users, gql, [(product, 2)])
    results = await asyncio.gather(*[gql(CHECKOUT, {"k": "tap"}, token=token) for _ in range(5)])
    payloads = [r["data"]["checkout"] for r in results]
    assert {p["sale"]["id"] for p in payloads} == {payloads[0]["sale"]["id"]}
    assert sorted(p["replayed"] for p in payloads) == [False, True, True, True, True]
    assert await _sales_count(db) == 1
    assert await shop.stock(product.id) == (8, 8)


async def test_same_key_with_a_different_request_is_refused(gql, users, shop):
    product = await shop.product(stock=10)
    _, token = await _customer_with_cart(users, gql, [(product, 1)])
    await gql(CHECKOUT, {"k": "k1", "r": 0}, token=token)
    await gql(ADD, {"p": str(product.id), "q": 1}, token=token)
    reused = (await gql(CHECKOUT, {"k": "k1", "r": 5}, token=token))["data"]["checkout"]
    assert reused["errors"] == [{"code": "IDEMPOTENCY_KEY_REUSED", "field": "idempotencyKey",
                                 "message": reused["errors"][0]["message"]}]
    assert await shop.stock(product.id) == (9, 9)


async def test_coupon_at_its_usage_limit_refuses_the_extra_checkouts(gql, users, shop, db):
    product = await shop.product(stock=100)
    coupon = await shop.coupon("TWICE", usage_limit=2)
    tokens = []
    for _ in range(10):
        _, token = await _customer_with_cart(users, gql, [(product, 1)])
        applied = await gql('mutation { applyCoupon(code: "twice") { errors { code } } }', token=token)
        assert applied["data"]["applyCoupon"]["errors"] == []
        tokens.append(token)
    results = await asyncio.gather(*[gql(CHECKOUT, {"k": "c"}, token=t) for t in tokens])
    payloads = [r["data"]["checkout"] for r in results]
    assert sum(1 for p in payloads if p["sale"] and p["sale"]["couponCode"] == "TWICE") == 2
    assert sorted(p["errors"][0]["code"] for p in payloads if p["errors"]) == ["COUPON_USAGE_LIMIT_REACHED"] * 8
    async with db.read() as s:
        assert (await s.get(Coupon, coupon.id)).times_used == 2
    assert await _sales_count(db) == 2


async def test_overlapping_baskets_in_every_order_neither_deadlock_nor_oversell(gql, users, shop, db):
    products = [await shop.product(stock=4) for _ in range(3)]
    # Six customers, each basket the three products added in a different order: 6 x 1 of each, 4 in stock.
    tokens = [(await _customer_with_cart(users, gql, [(p, 1) for p in order]))[1]
              for order in itertools.permutations(products)]
    results = await asyncio.gather(*[gql(CHECKOUT, {"k": "k"}, token=t) for t in tokens])
    payloads = [r["data"]["checkout"] for r in results]
    assert all("errors" not in r for r in results)  # no top-level error: no deadlock, no INTERNAL
    assert sum(1 for p in payloads if p["sale"]) == 4
    assert all(p["errors"][0]["code"] == "INSUFFICIENT_STOCK" for p in payloads if not p["sale"])
    for p in products:
        assert await shop.stock(p.id) == (0, 0)


async def test_a_shortfall_names_every_short_product_and_changes_nothing(gql, users, shop, db):
    plenty, scarce, gone = await shop.product(stock=50), await shop.product(stock=1, name="Catnip"), await shop.product(stock=3, name="Kibble")
    user, token = await _customer_with_cart(users, gql, [(plenty, 2), (scarce, 1), (gone, 3)])
    await shop.unit(lambda uow: __import__("app.domain.catalog.service", fromlist=["x"]).adjust_stock(
        uow, product_id=scarce.id, delta=-1, reason="ADJUSTMENT", note=None))
    await shop.unit(lambda uow: __import__("app.domain.catalog.service", fromlist=["x"]).adjust_stock(
        uow, product_id=gone.id, delta=-2, reason="ADJUSTMENT", note=None))
    payload = (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]
    assert payload["sale"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [
        ("INSUFFICIENT_STOCK", "cart.items.1"), ("INSUFFICIENT_STOCK", "cart.items.2")]
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
    await gql(ADD, {"p": str(product.id), "q": 1}, token=token)
    await gql("mutation($p: ID!) { updateCartItem(productId: $p, quantity: 0) { errors { code } } }",
              {"p": str(product.id)}, token=token)
    payload = (await gql(CHECKOUT, {"k": "k2"}, token=token))["data"]["checkout"]
    assert payload["errors"][0]["code"] == "NOTHING_TO_CHECK_OUT"


async def test_checkout_totals_coupon_points_and_sale_numbers(gql, users, shop):
    product = await shop.product(stock=100, price="12.50")
    await shop.coupon("TEN", kind="FIXED", value="10.00", min_subtotal=Decimal("20"))
    user, token = await _customer_with_cart(users, gql, [(product, 4)])  # 50.00
    first = (await gql(CHECKOUT, {"k": "a"}, token=token))["data"]["checkout"]["sale"]
    assert (first["number"], first["total"]["amount"], first["pointsEarned"]) == ("S-000001", "50.00", 50)
    await gql(ADD, {"p": str(product.id), "q": 2}, token=token)  # 25.00
    assert (await gql('mutation { applyCoupon(code: "ten") { errors { code } } }', token=token)
            )["data"]["applyCoupon"]["errors"] == []
    second = (await gql(CHECKOUT, {"k": "b", "r": 50}, token=token))["data"]["checkout"]["sale"]
    assert second["number"] == "S-000002"
    assert (second["subtotal"]["amount"], second["couponDiscount"]["amount"], second["pointsDiscount"]["amount"],
            second["total"]["amount"], second["pointsEarned"]) == ("25.00", "10.00", "0.50", "14.50", 14)
    assert await shop.points(user.id) == (50 - 50 + 14, 14)


async def test_redeeming_more_than_the_amount_due_is_refused(gql, users, shop):
    product = await shop.product(stock=100, price="1.00")
    _, token = await _customer_with_cart(users, gql, [(product, 1)])
    payload = (await gql(CHECKOUT, {"k": "a", "r": 101}, token=token))["data"]["checkout"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", "redeemPoints")]
    payload = (await gql(CHECKOUT, {"k": "b", "r": 100}, token=token))["data"]["checkout"]
    assert payload["errors"][0]["code"] == "INSUFFICIENT_POINTS"
