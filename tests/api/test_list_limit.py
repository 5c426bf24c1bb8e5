"""More than 1,000 list items in a request, in one list or several, in the variables or as literals, is
a top-level VALIDATION error before graphql-core coerces them and before any permission check:
coercing 20,000 input objects held the worker for a second, for anyone, signed in or not, and a
limit per list still let 29 aliased fields carry 29,000. Lists up to the limit go on to the
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


LIMIT = "the lists of a request hold at most 1000 items in all"
HALF = MAX_LIST_ITEMS // 2


def codes(body: dict) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@pytest.mark.parametrize("operation", [REFUND, MERGE], ids=["refund lines", "merge sources"])
async def test_a_variable_list_past_the_limit_is_refused_before_anything_runs(gql, operation):
    document, name, value, path = operation
    body = await gql(document, {name: value(MAX_LIST_ITEMS + 1)})  # anonymous
    assert body.get("data") is None and codes(body) == ["VALIDATION"], body
    message = body["errors"][0]["message"]
    assert message == f"Variable '${name}' has invalid value{path}: {LIMIT}"

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
    assert body["errors"][0]["message"] == f"List literals hold too many items: {LIMIT}"


async def test_lists_share_the_limit_across_the_variables_and_across_aliased_fields(gql):
    two = (
        "mutation($a: [ID!]!, $b: [ID!]!) {"
        ' a: mergeSaleOrders(targetOrderId: "T", sourceOrderIds: $a) { errors { code } }'
        ' b: mergeSaleOrders(targetOrderId: "T", sourceOrderIds: $b) { errors { code } } }'
    )
    ids = [str(uuid.uuid4()) for _ in range(HALF + 1)]
    body = await gql(two, {"a": ids, "b": ids})
    assert body.get("data") is None and codes(body) == ["VALIDATION"], body
    assert body["errors"][0]["message"] == f"Variable '$b' has invalid value: {LIMIT}"

    within = await gql(two, {"a": ids[:HALF], "b": ids[:HALF]})
    assert codes(within) == ["UNAUTHENTICATED"], within  # coerced, then refused as usual


async def test_list_literals_share_the_limit(gql, users):
    _, token = await users.signed_in("STAFF")

    def aliased(per_field: int) -> str:
        ids = ", ".join(f'"{uuid.uuid4()}"' for _ in range(per_field))
        field = f'mergeSaleOrders(targetOrderId: "T", sourceOrderIds: [{ids}]) {{ errors {{ code }} }}'
        return f"mutation {{ a: {field} b: {field} }}"

    body = await gql(aliased(HALF + 1), token=token)
    assert body.get("data") is None and codes(body) == ["VALIDATION"], body
    assert [error["message"] for error in body["errors"]] == [f"List literals hold too many items: {LIMIT}"]

    within = await gql(aliased(HALF), token=token)
    assert "errors" not in within, within  # on to the operation, which answers in its payload
