"""An id that is not a UUID names nothing: the answer is the one a well-formed unknown id gets, the
same code, field and message."""

from __future__ import annotations

import uuid

import pytest

# operation: (role, the call with $id where the id goes)
OPERATIONS = {
    "deactivateCoupon": ("ADMIN", "deactivateCoupon(id: $id)"),
    "updateProduct": ("STAFF", 'updateProduct(id: $id, input: {name: "Chew"})'),
    "adjustStock": ("STAFF", "adjustStock(productId: $id, delta: 1, reason: RESTOCK)"),
    "updateTaxRate": ("ADMIN", 'updateTaxRate(id: $id, rate: "1")'),
    "cancelAdoptionRequest": ("CUSTOMER", "cancelAdoptionRequest(id: $id)"),
    "approveAdoptionRequest": ("STAFF", "approveAdoptionRequest(id: $id)"),
    "rejectAdoptionRequest": ("STAFF", "rejectAdoptionRequest(id: $id)"),
}


@pytest.mark.parametrize("operation", OPERATIONS)
async def test_a_malformed_id_answers_as_an_unknown_one(gql, users, operation):
    role, call = OPERATIONS[operation]
    document = f"mutation($id: ID!) {{ {call} {{ errors {{ code field message }} }} }}"
    _, token = await users.signed_in(role)
    unknown = (await gql(document, {"id": str(uuid.uuid4())}, token=token))["data"][operation]
    malformed = (await gql(document, {"id": "not-an-id"}, token=token))["data"][operation]
    assert unknown["errors"][0]["code"] == "NOT_FOUND", unknown
    assert malformed == unknown


async def test_a_malformed_item_or_customer_id_at_the_counter_answers_as_an_unknown_one(gql, users):
    """They said "item not found" and "customer not found" where an unknown id said "Product not
    found" or "Service not found", and "Customer not found"."""
    _, staff = await users.signed_in("STAFF")
    opened = (
        "mutation($c: ID) { createSaleOrder(input: {customerId: $c}) "
        "{ order { id } errors { code field message } } }"
    )
    answers = [
        (await gql(opened, {"c": c}, token=staff))["data"]["createSaleOrder"]
        for c in (str(uuid.uuid4()), "x")
    ]
    assert (
        answers[0]
        == answers[1]
        == {
            "order": None,
            "errors": [{"code": "NOT_FOUND", "field": "customerId", "message": "Customer not found"}],
        }
    )
    order = (await gql(opened, {"c": None}, token=staff))["data"]["createSaleOrder"]["order"]["id"]
    add = (
        "mutation($o: ID!, $t: SaleItemType!, $i: ID!) { addSaleOrderItem(input: {orderId: $o, itemType: $t, "
        "itemId: $i, quantity: 1}) { errors { code field message } } }"
    )
    for item_type, what in (("PRODUCT", "Product"), ("SERVICE", "Service")):
        answers = [
            (await gql(add, {"o": order, "t": item_type, "i": i}, token=staff))["data"]["addSaleOrderItem"]
            for i in (str(uuid.uuid4()), "x")
        ]
        expected = {"errors": [{"code": "NOT_FOUND", "field": "itemId", "message": f"{what} not found"}]}
        assert answers[0] == answers[1] == expected, item_type
