"""stockMovements pages newest first by keyset: `after` is the id of the last movement read."""

import uuid

import pytest

from tests.sql_recorder import record_sql

MOVES = "query($p: ID!, $a: String) { stockMovements(productId: $p, first: 2, after: $a) { id delta } }"
ADJUST = (
    "mutation($p: ID!, $d: Int!) { adjustStock(productId: $p, delta: $d, reason: RESTOCK) "
    "{ errors { code } } }"
)


async def test_pages_follow_on_after_the_last_id_without_gaps_or_repeats(gql, users, shop, db):
    product = await shop.product(stock=10)  # an INITIAL movement of 10
    other = await shop.product(stock=5)
    _, staff = await users.signed_in("STAFF")
    for delta in (1, 2, 3, 4):
        assert (await gql(ADJUST, {"p": str(product.id), "d": delta}, token=staff))["data"][
            "adjustStock"
        ] == {"errors": []}
    pages, after = [], None
    while True:
        with record_sql(db.engine) as sql:
            page = (await gql(MOVES, {"p": str(product.id), "a": after}, token=staff))["data"][
                "stockMovements"
            ]
        reads = [statement for statement in sql if "FROM stock_movements" in statement]
        assert len(reads) == (2 if after else 1), reads  # the bound's row, then the page
        assert not any("OFFSET" in statement for statement in reads), reads  # a keyset, never OFFSET
        if not page:
            break
        pages.append([m["delta"] for m in page])
        after = page[-1]["id"]
    assert pages == [[4, 3], [2, 1], [10]]
    foreign = (await gql(MOVES, {"p": str(other.id)}, token=staff))["data"]["stockMovements"]
    assert [m["delta"] for m in foreign] == [5]


@pytest.mark.parametrize("after", ["not-an-id", str(uuid.uuid4()), "other product"])
async def test_an_after_that_names_no_movement_of_the_product_is_validation(gql, users, shop, after):
    product, other = await shop.product(), await shop.product()
    _, staff = await users.signed_in("STAFF")
    if after == "other product":
        moves = await gql(MOVES, {"p": str(other.id)}, token=staff)
        after = moves["data"]["stockMovements"][0]["id"]
    refused = await gql(MOVES, {"p": str(product.id), "a": after}, token=staff)
    assert refused["data"] is None
    [error] = refused["errors"]
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("VALIDATION", "after")
