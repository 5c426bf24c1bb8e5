"""Several fields wrong at once are each reported in the one answer (README, Errors: "every invalid
field"): these mutations named only the first, so a form fixed one field and resubmitted to learn
of the next. Nothing is written."""

import uuid

import pytest

from tests.sql_recorder import record_sql

SOME_ID = str(uuid.uuid4())

# mutation: (role, document, variables, the errors as (code, field))
CASES = {
    "openShift": (
        "STAFF",
        "mutation($i: OpenShiftInput!) { openShift(input: $i) { errors { code field } } }",
        {"i": {"register": " ", "openingFloat": "-1"}},
        [("VALIDATION", "register"), ("VALIDATION", "openingFloat")],
    ),
    "closeShift": (
        "STAFF",
        "mutation($i: CloseShiftInput!) { closeShift(input: $i) { errors { code field } } }",
        {"i": {"shiftId": "not-an-id", "countedCash": "-1"}},
        [("NOT_FOUND", "shiftId"), ("VALIDATION", "countedCash")],
    ),
    "recordCashMovement": (
        "STAFF",
        "mutation($i: CashMovementInput!) { recordCashMovement(input: $i) { errors { code field } } }",
        {"i": {"shiftId": SOME_ID, "amount": "1.001", "reason": "r" * 501}},
        [("VALIDATION", "amount"), ("VALIDATION", "reason")],
    ),
    "adjustStock": (
        "STAFF",
        "mutation($p: ID!, $n: String) { adjustStock(productId: $p, delta: 0, reason: ADJUSTMENT, "
        "note: $n) { errors { code field } } }",
        {"p": SOME_ID, "n": "x" * 501},
        [("VALIDATION", "delta"), ("VALIDATION", "note")],
    ),
    "setSaleOrderDiscount": (
        "STAFF",
        'mutation($o: ID!, $r: String!) { setSaleOrderDiscount(orderId: $o, amount: "-1", reason: $r) '
        "{ errors { code field } } }",
        {"o": SOME_ID, "r": "r" * 201},
        [("VALIDATION", "amount"), ("VALIDATION", "reason")],
    ),
    "setSaleOrderDiscount, neither": (
        "STAFF",
        'mutation($o: ID!) { setSaleOrderDiscount(orderId: $o, reason: "") { errors { code field } } }',
        {"o": SOME_ID},
        [("VALIDATION", "percent")],  # no discount described: no reason asked for
    ),
    "createSaleOrder": (
        "STAFF",
        "mutation($i: CreateSaleOrderInput!) { createSaleOrder(input: $i) { errors { code field } } }",
        {"i": {"label": "l" * 101, "customerId": SOME_ID}},
        [("VALIDATION", "label"), ("NOT_FOUND", "customerId")],
    ),
    "checkout": (
        "CUSTOMER",
        "mutation($i: CheckoutInput!) { checkout(input: $i) { errors { code field } } }",
        {"i": {"idempotencyKey": "k" * 201, "redeemPoints": -1}},
        [("VALIDATION", "idempotencyKey"), ("VALIDATION", "redeemPoints")],
    ),
    "checkoutSaleOrder": (
        "STAFF",
        "mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) { errors { code field } } }",
        {
            "i": {
                "orderId": "not-an-id",
                "idempotencyKey": "",
                "paymentMethod": "CASH",
                "customerId": "not-an-id",
                "couponCode": "NO-SUCH-CODE",
                "redeemPoints": -1,
                "register": "r" * 51,
            }
        },
        [
            ("NOT_FOUND", "orderId"),
            ("NOT_FOUND", "customerId"),
            ("COUPON_INVALID", "couponCode"),
            ("VALIDATION", "register"),
            ("VALIDATION", "amountTendered"),
            ("VALIDATION", "redeemPoints"),
            ("VALIDATION", "idempotencyKey"),
        ],
    ),
    "checkoutSaleOrder, tenders": (
        "STAFF",
        "mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) { errors { code field } } }",
        {
            "i": {
                "orderId": SOME_ID,
                "idempotencyKey": "k",
                "tenders": [
                    {"method": "ONLINE", "amount": "-1", "reference": "x" * 101},
                    {"method": "CARD", "amount": "5"},
                    {"method": "CASH", "amount": "1.001"},
                ],
            }
        },
        [
            ("VALIDATION", "tenders.0.method"),
            ("VALIDATION", "tenders.0.amount"),
            ("VALIDATION", "tenders.0.reference"),
            ("VALIDATION", "tenders.2.amount"),
            ("VALIDATION", "register"),  # cash goes into a drawer
        ],
    ),
    "refundSale": (
        "STAFF",
        "mutation($i: RefundInput!) { refundSale(input: $i) { errors { code field } } }",
        {
            "i": {
                "saleId": "not-an-id",
                "lines": [
                    {"saleLineId": SOME_ID, "quantity": 0},
                    {"saleLineId": "not-an-id", "quantity": -2},
                ],
                "reason": "r" * 501,
                "idempotencyKey": "",
                "method": "CASH",
            }
        },
        [
            ("NOT_FOUND", "saleId"),
            ("VALIDATION", "lines.0.quantity"),
            ("NOT_FOUND", "lines.1.saleLineId"),
            ("VALIDATION", "lines.1.quantity"),
            ("VALIDATION", "reason"),
            ("VALIDATION", "idempotencyKey"),
            ("VALIDATION", "register"),
        ],
    ),
}


@pytest.mark.parametrize("mutation", CASES)
async def test_every_field_at_fault_is_reported_at_once_and_nothing_is_written(gql, users, db, mutation):
    role, document, variables, expected = CASES[mutation]
    _, token = await users.signed_in(role)
    with record_sql(db.engine) as sql:
        body = await gql(document, variables, token=token)
    payload = body["data"][mutation.split(",")[0]]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == expected, body
    assert sql.writes() == [], sql
