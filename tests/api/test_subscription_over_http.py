"""A subscription sent over HTTP is a clean 400 pointing at the WebSocket, never INTERNAL,
and nothing of it runs."""

import pytest

SUBSCRIBE = "subscription($o: ID!) { saleOrderUpdated(orderId: $o) { id version } }"


@pytest.mark.parametrize("role", [None, "CUSTOMER", "STAFF"])
async def test_a_subscription_over_http_post_is_a_400_that_names_the_websocket(client, users, role):
    headers = {"Authorization": f"Bearer {(await users.signed_in(role))[1]}"} if role else {}
    response = await client.post(
        "/graphql",
        headers=headers,
        json={"query": SUBSCRIBE, "variables": {"o": "00000000-0000-0000-0000-000000000000"}},
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"]
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "WebSocket" in error["message"] and "graphql-transport-ws" in error["message"]


async def test_an_invalid_subscription_document_still_gets_its_validation_errors(client):
    response = await client.post("/graphql", json={"query": "subscription { saleOrderUpdated { nope } }"})
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert errors and {e["extensions"]["code"] for e in errors} == {"VALIDATION"}
    assert "nope" in errors[0]["message"]


async def test_queries_and_mutations_over_http_are_untouched(gql):
    assert (await gql("{ me { id } }")) == {"data": {"me": None}}
