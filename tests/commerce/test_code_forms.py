"""A SKU or coupon code is one code however it was typed: an accent as its own mark, full-width
letters from a phone's keyboard, either letter case. Created in one form (NFKC, upper case), found
from any, and a second code that differs only in form is taken; migration 0016 wrote the codes an
earlier petpos stored in the old form."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import select, update

from app import check
from app.domain.catalog.models import Product
from app.domain.coupons.models import Coupon
from app.migrations import alembic_config
from tests.commerce.shop import ADD

DECOMPOSED, COMPOSED, FULL_WIDTH = "cafe\u0301-1", "CAFÉ-1", "ｃａｆé-１"
COUPON = (
    'mutation($c: String!) { createCoupon(input: {code: $c, kind: PERCENT, value: "10"}) '
    "{ coupon { code } errors { code field } } }"
)
PRODUCT = (
    'mutation($s: String!) { createProduct(input: {sku: $s, name: "Café bowl", category: ACCESSORY, '
    'price: "5.00", stock: 3}) { product { sku } errors { code field } } }'
)
BY_SKU = "query($s: String!) { productBySku(sku: $s) { name } }"
APPLY = "mutation($c: String!) { applyCoupon(code: $c) { cart { discount { amount } } errors { code } } }"


async def test_a_code_typed_in_any_form_is_one_code(gql, users):
    _, admin = await users.signed_in("ADMIN")
    made = (await gql(COUPON, {"c": DECOMPOSED}, token=admin))["data"]["createCoupon"]
    assert made == {"coupon": {"code": COMPOSED}, "errors": []}
    for other in (COMPOSED, FULL_WIDTH):
        taken = (await gql(COUPON, {"c": other}, token=admin))["data"]["createCoupon"]
        assert taken == {"coupon": None, "errors": [{"code": "CONFLICT", "field": "code"}]}, other
    product = (await gql(PRODUCT, {"s": FULL_WIDTH}, token=admin))["data"]["createProduct"]
    assert product == {"product": {"sku": COMPOSED}, "errors": []}
    for form in (DECOMPOSED, COMPOSED, FULL_WIDTH, "café-1"):
        assert (await gql(BY_SKU, {"s": form}))["data"]["productBySku"] == {"name": "Café bowl"}, form

    _, customer = await users.signed_in()
    product_id = (await gql("{ products { edges { node { id } } } }"))["data"]["products"]["edges"][0]
    await gql(ADD, {"p": product_id["node"]["id"], "q": 1}, token=customer)
    applied = (await gql(APPLY, {"c": FULL_WIDTH}, token=customer))["data"]["applyCoupon"]
    assert applied == {"cart": {"discount": {"amount": "0.50"}}, "errors": []}


async def test_the_migration_writes_stored_codes_in_the_one_form_unless_taken(database_url, db, shop):
    decomposed, full_width = await shop.product(sku="OLD-1"), await shop.product(sku="OLD-2")
    composed, clash = await shop.product(sku="ZOÉ"), await shop.product(sku="OLD-3")
    coupon = await shop.coupon("OLD-COUPON")
    async with db.sessions.begin() as session:  # as an earlier petpos stored them
        for product, sku in ((decomposed, "JOSE\u0301"), (full_width, "ＢＥＡ"), (clash, "ZOE\u0301")):
            await session.execute(update(Product).where(Product.id == product.id).values(sku=sku))
        await session.execute(update(Coupon).where(Coupon.id == coupon.id).values(code="ＳＰＲＩＮＧ"))

    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0015_created_at_clock")
    await asyncio.to_thread(command.upgrade, config, "head")

    async with db.read() as session:
        skus = dict((await session.execute(select(Product.id, Product.sku))).all())
        code = await session.scalar(select(Coupon.code).where(Coupon.id == coupon.id))
    assert skus[decomposed.id] == "JOSÉ"
    assert skus[full_width.id] == "BEA"
    assert skus[composed.id] == "ZOÉ"
    assert skus[clash.id] == "ZOE\u0301"  # left as it was: its new form is taken
    assert code == "SPRING"
    # `petpos check` names the code left to mend.
    (outcome,) = await check.run_checks(db.engine, (check.LOOKUP_CODES,))
    assert [(row["product"], row["coupon"]) for row in outcome.violations] == [(clash.id, None)]
