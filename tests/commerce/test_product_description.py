"""A product's description holds at most 5000 characters: a longer one is refused on the field,
not cut short without a word."""

CREATE = (
    'mutation($d: String) { createProduct(input: {sku: "LONG", name: "Long", category: TOY, '
    'price: "1.00", description: $d}) { product { id description } errors { code field } } }'
)
UPDATE = (
    "mutation($id: ID!, $d: String) { updateProduct(id: $id, input: {description: $d}) "
    "{ product { description } errors { code field } } }"
)
PRODUCTS = "{ products(first: 5) { edges { node { sku description } } } }"


async def test_a_description_past_5000_characters_is_refused_on_create_and_update(gql, users):
    _, staff = await users.signed_in("STAFF")
    refused = (await gql(CREATE, {"d": "a" * 5001}, token=staff))["data"]["createProduct"]
    assert refused == {"product": None, "errors": [{"code": "VALIDATION", "field": "description"}]}
    assert (await gql(PRODUCTS))["data"]["products"]["edges"] == []

    made = (await gql(CREATE, {"d": " " + "b" * 5000 + " "}, token=staff))["data"]["createProduct"]
    assert made["errors"] == [] and made["product"]["description"] == "b" * 5000
    product_id = made["product"]["id"]
    refused = (await gql(UPDATE, {"id": product_id, "d": "c" * 5001}, token=staff))["data"]["updateProduct"]
    assert refused == {"product": None, "errors": [{"code": "VALIDATION", "field": "description"}]}
    kept = (await gql(PRODUCTS))["data"]["products"]["edges"]
    assert kept == [{"node": {"sku": "LONG", "description": "b" * 5000}}]
    cleared = (await gql(UPDATE, {"id": product_id, "d": ""}, token=staff))["data"]["updateProduct"]
    assert cleared == {"product": {"description": ""}, "errors": []}
