"""Decimal inputs: a value that is not a finite number (NaN, a signalling NaN, Infinity, text, or
what Python's Decimal alone reads: underscores, other scripts' digits, white space) is a top-level
VALIDATION error, as a variable and as a literal, before any resolver runs."""

import pytest

from tests.sql_recorder import record_sql

NOT_FINITE = ["sNaN", "-sNaN", "NaN", "Infinity", "-Infinity", "inf"]
NOT_DECIMAL_STRINGS = ["1_000", "\u0661\u0662\u0663", " 12.50", "12.50\t", "１２", "1.2.3", "+", ".", "1e"]

# Found by tests/api/test_fuzz.py: a signalling NaN on a STANDARD line's discount reached the
# `discount != 0` check and raised InvalidOperation there (INTERNAL).
ADD_ITEM_LITERAL = (
    'mutation { addSaleOrderItem(input: {orderId: "%s", itemType: PRODUCT, itemId: "%s", '
    'quantity: 0, discount: "%s"}) { errors { field } } }'
)
ADD_ITEM_VARIABLE = (
    "mutation($i: AddSaleOrderItemInput!) { addSaleOrderItem(input: $i) { errors { field } } }"
)
SOME_ID = "33945cd5-ff7f-433a-b199-281b2a4b21ff"


def assert_validation(body: dict) -> None:
    assert body.get("data") is None, body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["VALIDATION"], body
    assert "Decimal" in body["errors"][0]["message"], body


@pytest.mark.parametrize("number", NOT_FINITE + NOT_DECIMAL_STRINGS)
async def test_a_number_that_is_not_finite_is_validation_as_a_literal_and_as_a_variable(
    gql, users, db, number
):
    _, staff = await users.signed_in("STAFF")
    with record_sql(db.engine) as sql:
        literal = await gql(ADD_ITEM_LITERAL % (SOME_ID, SOME_ID, number), token=staff)
        assert_validation(literal)
        assert literal["errors"][0]["locations"], literal  # points at the literal in the document
        line = {"orderId": SOME_ID, "itemType": "PRODUCT", "itemId": SOME_ID, "quantity": 0}
        assert_validation(await gql(ADD_ITEM_VARIABLE, {"i": {**line, "discount": number}}, token=staff))
    assert sql.writes() == [], sql


@pytest.mark.parametrize("literal", ["1e999", "-1e999"])
async def test_a_float_literal_too_large_for_a_float_is_validation(gql, users, literal):
    _, staff = await users.signed_in("STAFF")
    document = (
        'mutation { createProduct(input: {sku: "HUGE", name: "Huge", category: FOOD, price: %s}) '
        "{ errors { field } } }"
    )
    assert_validation(await gql(document % literal, token=staff))


async def test_finite_numbers_still_reach_the_field_checks(gql, users):
    _, staff = await users.signed_in("STAFF")
    document = (
        'mutation($price: Decimal!) { createProduct(input: {sku: "KIB", name: "Kibble", category: FOOD, '
        "price: $price}) { errors { code field } product { price { amount } } } }"
    )
    created = await gql(document, {"price": "12.5"}, token=staff)
    assert created["data"]["createProduct"]["product"]["price"]["amount"] == "12.50", created
    too_precise = await gql(document, {"price": "1e-999"}, token=staff)
    assert too_precise["data"]["createProduct"]["errors"] == [{"code": "VALIDATION", "field": "price"}]


# Each amount field the input fuzz reached with an exponent past the decimal context's limit: abs()
# overflowed it (decimal.Overflow, INTERNAL) where "1e999999" was a clean VALIDATION.
HUGE_AMOUNTS = {
    "openShift": (
        "STAFF",
        'mutation($v: Decimal!) { openShift(input: {register: "front", openingFloat: $v}) '
        "{ errors { code field } } }",
        "openingFloat",
    ),
    "createProduct": (
        "STAFF",
        'mutation($v: Decimal!) { createProduct(input: {sku: "HUGE", name: "Huge", category: FOOD, '
        "price: $v}) { errors { code field } } }",
        "price",
    ),
    "createCoupon FIXED": (
        "ADMIN",
        'mutation($v: Decimal!) { createCoupon(input: {code: "HUGE", kind: FIXED, value: $v}) '
        "{ errors { code field } } }",
        "value",
    ),
    "createCoupon PERCENT": (
        "ADMIN",
        'mutation($v: Decimal!) { createCoupon(input: {code: "HUGE", kind: PERCENT, value: $v}) '
        "{ errors { code field } } }",
        "value",
    ),
    "createPet": (
        "STAFF",
        'mutation($v: Decimal!) { createPet(input: {name: "Rex", species: DOG, ageMonths: 3, '
        "adoptionFee: $v}) { errors { code field } } }",
        "adoptionFee",
    ),
}


@pytest.mark.parametrize("operation", HUGE_AMOUNTS)
@pytest.mark.parametrize("number", ["1e999999999", "-1e999999999"])
async def test_an_amount_past_the_decimal_context_is_validation_on_its_field(gql, users, operation, number):
    role, document, field = HUGE_AMOUNTS[operation]
    _, token = await users.signed_in(role)
    body = await gql(document, {"v": number}, token=token)
    (payload,) = body["data"].values()
    assert payload["errors"] == [{"code": "VALIDATION", "field": field}], body


@pytest.mark.parametrize("number", ["101", "1e11", "1e999999999"])
async def test_a_percent_coupon_past_100_is_told_its_one_limit(gql, users, number):
    """Past 9999999999.99 it was told "A percentage is at most 9999999999.99"."""
    _, admin = await users.signed_in("ADMIN")
    document = (
        'mutation($v: Decimal!) { createCoupon(input: {code: "HUGE", kind: PERCENT, value: $v}) '
        "{ errors { field message } } }"
    )
    body = await gql(document, {"v": number}, token=admin)
    assert body["data"]["createCoupon"]["errors"] == [
        {"field": "value", "message": "A percentage is at most 100"}
    ]
