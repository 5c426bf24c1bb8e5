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
