"""A cart whose coupon stops applying (its subtotal falls below the minimum, it ends, it is
deactivated) says why in couponProblem, with the code checkout would refuse it with."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.domain.coupons.models import Coupon
from tests.commerce.shop import ADD, CHECKOUT

CART = "{ myCart { discount { amount } coupon { code } couponProblem { code message field } } }"
APPLY = 'mutation { applyCoupon(code: "TEN") { errors { code } } }'
SET = "mutation($p: ID!, $q: Int!) { updateCartItem(productId: $p, quantity: $q) { errors { code } } }"


async def test_the_cart_says_why_its_coupon_takes_nothing_off_and_checkout_refuses_it_so(
    gql, users, shop, db
):
    product = await shop.product(price="10.00", stock=10)
    coupon = await shop.coupon("TEN", min_subtotal=20)
    _, token = await users.signed_in()
    await gql(ADD, {"p": str(product.id), "q": 2}, token=token)
    assert (await gql(APPLY, token=token))["data"]["applyCoupon"]["errors"] == []
    cart = (await gql(CART, token=token))["data"]["myCart"]
    assert cart == {"discount": {"amount": "2.00"}, "coupon": {"code": "TEN"}, "couponProblem": None}

    await gql(SET, {"p": str(product.id), "q": 1}, token=token)  # 10.00: below the coupon's 20.00
    cart = (await gql(CART, token=token))["data"]["myCart"]
    assert cart == {
        "discount": {"amount": "0.00"},
        "coupon": {"code": "TEN"},
        "couponProblem": {
            "code": "COUPON_MINIMUM_NOT_MET",
            "message": "This coupon needs a subtotal of at least 20.00",
            "field": None,
        },
    }
    refused = (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]
    assert [e["code"] for e in refused["errors"]] == ["COUPON_MINIMUM_NOT_MET"]

    await gql(SET, {"p": str(product.id), "q": 2}, token=token)
    async with db.engine.begin() as connection:  # the coupon ends
        await connection.execute(
            update(Coupon)
            .where(Coupon.id == coupon.id)
            .values(ends_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    problem = (await gql(CART, token=token))["data"]["myCart"]["couponProblem"]
    assert problem["code"] == "COUPON_EXPIRED"


async def test_a_coupon_that_would_take_nothing_off_says_so_and_checkout_keeps_its_use(gql, users, shop, db):
    """1% of 0.40 rounds to 0.00: checkout would spend a use for nothing, so it refuses the coupon."""
    product = await shop.product(price="0.40", stock=10)
    coupon = await shop.coupon("TEN", value="1", usage_limit=1)
    _, token = await users.signed_in()
    await gql(ADD, {"p": str(product.id), "q": 1}, token=token)
    assert (await gql(APPLY, token=token))["data"]["applyCoupon"]["errors"] == []
    cart = (await gql(CART, token=token))["data"]["myCart"]
    assert cart == {
        "discount": {"amount": "0.00"},
        "coupon": {"code": "TEN"},
        "couponProblem": {
            "code": "VALIDATION",
            "message": "This coupon takes nothing off this sale: keep it for another",
            "field": None,
        },
    }
    refused = (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]
    assert [e["code"] for e in refused["errors"]] == ["VALIDATION"]
    async with db.sessions() as session:
        assert (await session.get(Coupon, coupon.id)).times_used == 0


async def test_a_coupon_used_up_since_it_was_applied_is_refused_at_checkout_on_the_cart_coupon(
    gql, users, shop, db
):
    product = await shop.product(price="10.00", stock=10)
    coupon = await shop.coupon("TEN", usage_limit=1)
    tokens = [(await users.signed_in())[1] for _ in range(2)]
    for token in tokens:  # both apply it while it has a use left
        await gql(ADD, {"p": str(product.id), "q": 1}, token=token)
        assert (await gql(APPLY, token=token))["data"]["applyCoupon"]["errors"] == []
    first = (await gql(CHECKOUT, {"k": "k"}, token=tokens[0]))["data"]["checkout"]
    assert first["errors"] == [] and first["sale"]["couponCode"] == "TEN"
    problem = (await gql(CART, token=tokens[1]))["data"]["myCart"]["couponProblem"]
    assert problem["code"] == "COUPON_USAGE_LIMIT_REACHED"
    second = (await gql(CHECKOUT, {"k": "k"}, token=tokens[1]))["data"]["checkout"]
    assert (second["sale"], [(e["code"], e["field"]) for e in second["errors"]]) == (
        None,
        [("COUPON_USAGE_LIMIT_REACHED", "cart.coupon")],
    )
    async with db.sessions() as session:
        assert (await session.get(Coupon, coupon.id)).times_used == 1
