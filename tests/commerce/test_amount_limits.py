"""Amounts fit NUMERIC(12,2): prices are bounded so every line fits, a sale above the
largest amount is refused before anything is written, and an overflow that still
reaches the database is a VALIDATION error, never INTERNAL."""

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text

from app.domain import money
from app.domain.errors import DomainError
from app.domain.sales.models import Sale
from app.domain.uow import run_unit
from tests.commerce.shop import ADD, CHECKOUT
from tests.taxes.helpers import tax_rate, taxed_product

CREATE = (
    'mutation($price: Decimal!) { createProduct(input: {sku: "BIG", name: "Big", category: '
    "TOY, price: $price, stock: 999}) { product { price { amount } } errors { code field } } }"
)


async def test_a_price_above_the_maximum_is_refused(gql, users):
    _, staff = await users.signed_in("STAFF")
    refused = (await gql(CREATE, {"price": "99999999.99"}, token=staff))["data"]["createProduct"]
    assert refused == {"product": None, "errors": [{"code": "VALIDATION", "field": "price"}]}
    made = (await gql(CREATE, {"price": "1000000.00"}, token=staff))["data"]["createProduct"]
    assert made == {"product": {"price": {"amount": "1000000.00"}}, "errors": []}


async def test_a_sale_above_the_largest_amount_is_refused_before_anything_is_written(gql, users, shop, db):
    # 11 lines of 999 x 1,000,000.00: every line fits NUMERIC(12,2), their sum does not.
    products = [await shop.product(stock=999, price="1000000.00") for _ in range(11)]
    _, token = await users.signed_in()
    for product in products:
        added = await gql(ADD, {"p": str(product.id), "q": 999}, token=token)
        assert added["data"]["addToCart"]["errors"] == []
    payload = (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]
    assert (payload["sale"], [e["code"] for e in payload["errors"]]) == (None, ["VALIDATION"])
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Sale)) == 0
    assert await shop.stock(products[0].id) == (999, 999)
    cart = await gql("{ myCart { items { quantity } } }", token=token)
    assert len(cart["data"]["myCart"]["items"]) == 11  # the cart is kept
    # Refused before the sale's INSERT: the next sale still gets the first number.
    _, other = await users.signed_in()
    await gql(ADD, {"p": str(products[0].id), "q": 1}, token=other)
    assert (await gql(CHECKOUT, {"k": "k"}, token=other))["data"]["checkout"]["sale"]["number"] == "S-000001"


async def test_a_sale_earning_more_points_than_a_balance_holds_is_refused(gql, users, shop, db):
    # 2,997,000,000.00 fits NUMERIC(12,2); 2,997,000,000 points do not fit the INTEGER balance.
    products = [await shop.product(stock=999, price="1000000.00") for _ in range(3)]
    _, token = await users.signed_in()
    for product in products:
        await gql(ADD, {"p": str(product.id), "q": 999}, token=token)
    payload = (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]
    assert (payload["sale"], [e["code"] for e in payload["errors"]]) == (None, ["VALIDATION"])
    assert "points" in payload["errors"][0]["message"]
    assert await shop.stock(products[0].id) == (999, 999)


async def test_an_amount_overflowing_numeric_in_the_database_is_validation_not_internal(db):
    with pytest.raises(DomainError) as refused:
        await run_unit(
            db.sessions,
            lambda uow: uow.session.execute(text("SELECT 10000000000.00::numeric(12, 2)")),
            lock_timeout_ms=1000,
        )
    assert refused.value.code == "VALIDATION"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # past what quantize holds in cents: still the range's message
        ("1e28", "An amount is at most 9999999999.99 either way"),
        ("-1e28", "An amount is at most 9999999999.99 either way"),
        ("1000000000000000000000000", "An amount is at most 9999999999.99 either way"),
        ("10000000000.00", "An amount is at most 9999999999.99 either way"),
        ("1.001", "An amount has at most two decimals"),
        ("1e-999", "An amount has at most two decimals"),
        ("NaN", "Not an amount"),
        ("-Infinity", "Not an amount"),
    ],
)
def test_an_amount_out_of_range_says_so_however_it_is_written(value, message):
    with pytest.raises(DomainError) as refused:
        money.amount(Decimal(value), "amount", positive=False)
    assert (refused.value.message, refused.value.field) == (message, "amount")


@pytest.mark.parametrize("value", ["1000000.01", "99999999.99", "10000000000.00", "1e24", "1e28"])
def test_a_price_past_the_largest_names_it_however_it_is_written(value):
    with pytest.raises(DomainError) as refused:
        money.price(Decimal(value))
    assert refused.value.message == "A price is at most 1000000.00"


@pytest.mark.parametrize("value", ["-2000000", "-0.01", "0", "-1e28"])
def test_a_price_below_zero_says_so_whatever_its_size(value):
    with pytest.raises(DomainError) as refused:
        money.price(Decimal(value))
    assert refused.value.message == "A price must be greater than zero"


async def _checkout_of(gql, users, products, *, coupon: str | None = None) -> dict:
    _, token = await users.signed_in()
    for product in products:
        added = await gql(ADD, {"p": str(product.id), "q": 999}, token=token)
        assert added["data"]["addToCart"]["errors"] == []
    if coupon:
        apply = "mutation($c: String!) { applyCoupon(code: $c) { errors { code } } }"
        applied = await gql(apply, {"c": coupon}, token=token)
        assert applied["data"]["applyCoupon"]["errors"] == []
    return (await gql(CHECKOUT, {"k": "k"}, token=token))["data"]["checkout"]


@pytest.mark.parametrize("case", ["subtotal over, total under", "subtotal under, total with tax over"])
async def test_each_of_subtotal_and_total_is_held_to_the_largest_amount(gql, users, shop, db, case):
    """Either can pass the largest amount alone: a coupon brings a subtotal over it back under; tax on
    top takes a subtotal under it over. Each is refused by name, before anything is written."""
    if case == "subtotal over, total under":  # 10,989,000,000.00 less 10%
        products = [await shop.product(stock=999, price="1000000.00") for _ in range(11)]
        await shop.coupon("BIG", value="10")
        payload = await _checkout_of(gql, users, products, coupon="BIG")
    else:  # 9,990,000,000.00 plus 8.25%
        rate = await tax_rate(db, "8.25")
        products = [await taxed_product(db, f"BIG-{n}", "1000000.00", rate, stock=999) for n in range(10)]
        payload = await _checkout_of(gql, users, products)
    assert payload["sale"] is None
    assert [(e["code"], e["message"]) for e in payload["errors"]] == [
        ("VALIDATION", f"A sale comes to at most {money.MAX_AMOUNT}")
    ]
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Sale)) == 0
