"""Read-your-writes with a lagging replica: a real streaming standby (DATABASE_READ_URL) whose
replay is paused. Queries read the replica and show the past; a mutation, the look-ups before it
and everything its payload reads go to the primary, so it always sees its own change."""

from __future__ import annotations

import httpx
import pytest

from app.db.engine import Database
from app.main import create_app
from tests.conftest import GraphQLClient, make_settings
from tests.pos.conftest import ADD, CREATE, Pos
from tests.replica import caught_up, pause_replay, resume_replay, streaming_replica

CREATE_PRODUCT = (
    "mutation($i: ProductInput!) { createProduct(input: $i) { product { id name stock } "
    "errors { code field message } } }"
)
PRODUCT = "query($id: ID!) { product(id: $id) { id name } }"
ADD_TO_CART = (
    "mutation($p: ID!, $q: Int!) { addToCart(productId: $p, quantity: $q) { cart { items { "
    "product { id name } quantity } } errors { code field message } } }"
)


@pytest.fixture(scope="module")
def replica_url(database_url):
    with streaming_replica(database_url) as url:
        yield url


@pytest.fixture
async def lagging(database_url, replica_url):
    """A GraphQL client on an app that reads the replica, and `pause()` to freeze the replica."""
    settings = make_settings(database_url, database_read_url=replica_url)
    db = Database(settings)
    app = create_app(settings, db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://petpos.test") as c:

        async def pause() -> None:
            await caught_up(database_url, replica_url)
            await pause_replay(replica_url)

        try:
            yield GraphQLClient(c), pause
        finally:
            await resume_replay(replica_url)
            await db.dispose()


async def test_a_mutation_and_its_payload_read_the_primary_while_queries_read_the_lagging_replica(
    db, users, lagging
):
    gql, pause = lagging
    _, staff = await users.signed_in("STAFF")
    _, admin = await users.signed_in("ADMIN")
    _, customer = await users.signed_in("CUSTOMER")
    pos = Pos(db, gql, staff)
    burger = await pos.product("Burger chew", "5.00")
    order = (await pos.ok(CREATE, {"i": {"label": "Table 1"}}))["order"]
    await pause()

    # The payload shows the mutation's own change: its lines are loaded from the primary.
    added = await pos.ok(
        ADD, {"i": {"orderId": order["id"], "itemType": "PRODUCT", "itemId": str(burger.id), "quantity": 2}}
    )
    assert [(i["name"], i["quantity"]) for i in added["order"]["items"]] == [("Burger chew", 2)]
    assert added["order"]["total"]["amount"] == "10.00"

    # A product created a moment ago can be sold and put in a cart at once.
    product = {"sku": "RYW-1", "name": "Fresh kibble", "category": "FOOD", "price": "7.00", "stock": 5}
    created = (await pos.ok(CREATE_PRODUCT, {"i": product}, token=admin))["product"]
    assert created["name"] == "Fresh kibble"
    added = await pos.ok(
        ADD, {"i": {"orderId": order["id"], "itemType": "PRODUCT", "itemId": created["id"], "quantity": 1}}
    )
    assert sorted(i["name"] for i in added["order"]["items"]) == ["Burger chew", "Fresh kibble"]
    cart = (await pos.ok(ADD_TO_CART, {"p": created["id"], "q": 3}, token=customer))["cart"]
    assert [(i["product"]["name"], i["quantity"]) for i in cart["items"]] == [("Fresh kibble", 3)]

    # Queries still read the replica, which shows the time before the pause.
    assert (await pos.call(PRODUCT, {"id": created["id"]})) is None
    assert (await pos.read(order["id"]))["items"] == []
