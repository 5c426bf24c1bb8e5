"""Relay's PageInfo on every connection: startCursor is the first edge's cursor, endCursor the last;
paging is forward only, so hasPreviousPage is true exactly when the page starts `after` a cursor."""

from __future__ import annotations

import pytest

from tests.api.test_cursors import CONNECTIONS, SOME_ID, SOME_TIME, cursor

PAGE_INFO = "pageInfo { hasNextPage endCursor hasPreviousPage startCursor }"
PRODUCTS = "query($a: String) { products(first: 2, after: $a) { edges { cursor } " + PAGE_INFO + " } }"
NEW_PRODUCT = (
    'mutation($s: String!) { createProduct(input: {sku: $s, name: $s, category: FOOD, price: "1.00", '
    "stock: 1}) { errors { code } } }"
)


@pytest.mark.parametrize(("field", "role", "key"), CONNECTIONS)
async def test_every_connection_has_relays_page_info(gql, users, field, role, key):
    token = (await users.signed_in(role))[1] if role else None
    document = f"query($a: String) {{ {field}(first: 1, after: $a) {{ {PAGE_INFO} }} }}"
    first = await gql(document, token=token)
    assert first["data"][field]["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": None,
        "hasPreviousPage": False,
        "startCursor": None,
    }
    after = cursor("a" if key == "text" else SOME_TIME, SOME_ID)
    later = await gql(document, {"a": after}, token=token)
    assert later["data"][field]["pageInfo"]["hasPreviousPage"] is True


async def test_start_and_end_cursors_frame_the_page_and_previous_pages_show_after_a_cursor(gql, users):
    _, staff = await users.signed_in("STAFF")
    for sku in ("SKU-A", "SKU-B", "SKU-C"):
        assert (await gql(NEW_PRODUCT, {"s": sku}, token=staff))["data"]["createProduct"]["errors"] == []
    first = (await gql(PRODUCTS))["data"]["products"]
    cursors = [edge["cursor"] for edge in first["edges"]]
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "endCursor": cursors[-1],
        "hasPreviousPage": False,
        "startCursor": cursors[0],
    }
    second = (await gql(PRODUCTS, {"a": first["pageInfo"]["endCursor"]}))["data"]["products"]
    [edge] = second["edges"]
    assert second["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": edge["cursor"],
        "hasPreviousPage": True,
        "startCursor": edge["cursor"],
    }
