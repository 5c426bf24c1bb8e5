"""A list input of more than 1,000 items, in the variables or as a literal, is a top-level VALIDATION
error before graphql-core coerces it and before any permission check: coercing 20,000 input objects
held the worker for a second, for anyone, signed in or not. Lists up to the limit go on to the
operation's own checks (at most 100 lines, in the payload)."""

from __future__ import annotations

import uuid

import pytest

from app.api.input_guard import MAX_LIST_ITEMS

REFUND = (
    "mutation($i: RefundInput!) { refundSale(input: $i) { errors { code field } } }",
    "i",
    lambda n: {
        "saleId": str(uuid.uuid4()),
        "reason": "r",
        "idempotencyKey": "k",
        "lines": [{"saleLineId": str(uuid.uuid4()), "quantity": 1}] * n,
    },
    " at .lines",
)
MERGE = (
    'mutation($s: [ID!]!) { mergeSaleOrders(targetOrderId: "T", sourceOrderIds: $s) { errors { code } } }',
    "s",
    lambda n: [str(uuid.uuid4())] * n,
    "",
)


def codes(body: dict) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@pytest.mark.parametrize("operation", [REFUND, MERGE], ids=["refund lines", "merge sources"])
async def test_a_variable_list_past_the_limit_is_refused_before_anything_runs(gql, operation):
    document, name, value, path = operation
    body = await gql(document, {name: value(MAX_LIST_ITEMS + 1)})  # anonymous
    assert body.get("data") is None and codes(body) == ["VALIDATION"], body
    message = body["errors"][0]["message"]
    assert message == f"Variable '${name}' has invalid value{path}: a list holds at most 1000 items"

    at_the_limit = await gql(document, {name: value(MAX_LIST_ITEMS)})
    assert codes(at_the_limit) == ["UNAUTHENTICATED"], at_the_limit  # coerced, then refused as usual


async def test_a_list_literal_past_the_limit_is_refused(gql, users):
    _, token = await users.signed_in("STAFF")
    ids = ", ".join(f'"{uuid.uuid4()}"' for _ in range(MAX_LIST_ITEMS + 1))
    document = (
        f'mutation {{ mergeSaleOrders(targetOrderId: "T", sourceOrderIds: [{ids}]) {{ order {{ id }} }} }}'
    )
    body = await gql(document, token=token)
    assert body.get("data") is None and codes(body) == ["VALIDATION"], body
    assert body["errors"][0]["message"] == "A list literal is too long: a list holds at most 1000 items"
