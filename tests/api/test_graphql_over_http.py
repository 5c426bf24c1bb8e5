"""GraphQL over HTTP by the spec: application/graphql-response+json accepted and produced (a document that
cannot run is 400 with no `data` under it), queries over GET, mutations over GET refused with 405, transport
errors in the client's media type, and X-Request-ID readable by browser clients (CORS)."""

import json

import pytest
from sqlalchemy import func, select

from app.domain.accounts.models import User
from app.graphql_http import GRAPHQL_RESPONSE, JSON, response_media_type

NEW = {"accept": GRAPHQL_RESPONSE}
REFUSED = "Mutations are not allowed over GET: send them with POST"
LEGACY = {"accept": JSON}


@pytest.mark.parametrize(
    "accept, media_type",
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/json", JSON),
        ("text/html", JSON),  # nothing we serve: the spec allows application/json rather than 406
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),  # equal rank: the spec's own
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", JSON),
        (f"{GRAPHQL_RESPONSE};q=0, */*", JSON),
        (f"{GRAPHQL_RESPONSE};q=x", JSON),
        ("Application/GraphQL-Response+JSON ; Q=1", GRAPHQL_RESPONSE),
    ],
)
def test_the_response_media_type_follows_the_accept_header(accept, media_type):
    assert response_media_type(accept) == media_type


async def test_graphql_response_json_is_accepted_and_produced(client):
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=NEW)
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}
    legacy = await client.post("/graphql", json={"query": "{ __typename }"})
    assert legacy.headers["content-type"] == JSON


CANNOT_RUN = {
    "parse failure": {"query": "{"},
    "validation failure": {"query": "{ noSuchField }"},
    "variable coercion failure": {
        "query": "query($id: ID!) { product(id: $id) { id } }",
        "variables": {"id": None},
    },
    "unsafe string": {
        "query": "query($s: String!) { productBySku(sku: $s) { id } }",
        "variables": {"s": "a\x00"},
    },
    "several operations, none named": {"query": "query A { __typename } query B { __typename }"},
}


@pytest.mark.parametrize("name", CANNOT_RUN)
async def test_a_document_that_cannot_run_is_400_without_data_under_graphql_response_json(client, name):
    response = await client.post("/graphql", json=CANNOT_RUN[name], headers=NEW)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert "data" not in body and body["errors"][0]["message"]
    # application/json keeps its answer: 200 with data null.
    legacy = await client.post("/graphql", json=CANNOT_RUN[name], headers=LEGACY)
    assert legacy.status_code == 200 and legacy.headers["content-type"] == JSON
    assert legacy.json()["data"] is None and legacy.json()["errors"]


async def test_a_document_of_several_operations_runs_only_the_one_named(client, db):
    """Without operationName none runs (the GraphQL spec's GetOperation): not the first, a mutation."""
    register = (
        'mutation M { register(input: {email: "first@example.com", phone: "+1 202 555 0198", '
        'name: "First", password: "correct horse battery"}) { errors { code } } }'
    )
    document = register + " query Q { __typename }"
    for body in ({"query": document}, {"query": document, "operationName": None}):
        refused = (await client.post("/graphql", json=body)).json()
        assert refused["data"] is None
        assert refused["errors"] == [
            {
                "message": "Must provide operation name if query contains multiple operations.",
                "extensions": {"code": "VALIDATION"},
            }
        ]
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
    named = await client.post("/graphql", json={"query": document, "operationName": "Q"})
    assert named.json() == {"data": {"__typename": "Query"}}
    unknown = await client.post("/graphql", json={"query": document, "operationName": "R"})
    assert unknown.status_code == 400
    assert unknown.json() == {
        "errors": [{"message": 'Unknown operation named "R".', "extensions": {"code": "VALIDATION"}}]
    }
    # the same under the new media type, and as GET
    for response in (
        await client.post("/graphql", json={"query": document, "operationName": "R"}, headers=NEW),
        await client.get("/graphql", params={"query": "query A { __typename }", "operationName": "R"}),
    ):
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"] == {"code": "VALIDATION"}


async def test_a_field_error_is_200_with_data_under_graphql_response_json(client):
    sales = {"query": "{ sales { edges { node { id } } } }"}
    response = await client.post("/graphql", json=sales, headers=NEW)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == ["sales"]


async def test_transport_errors_answer_in_the_accepted_media_type(client):
    bad = await client.post("/graphql", content=b'{"query": ', headers={**NEW, "content-type": JSON})
    assert bad.status_code == 400 and bad.headers["content-type"] == GRAPHQL_RESPONSE
    message = "The request body is not valid JSON: Expecting value at line 1 column 11"
    assert bad.json() == {"errors": [{"message": message}]}
    nowhere = await client.get("/nowhere", headers=NEW)
    assert nowhere.status_code == 404 and nowhere.headers["content-type"] == GRAPHQL_RESPONSE


async def test_queries_run_over_get(client):
    response = await client.get("/graphql", params={"query": "{ __typename }"}, headers=NEW)
    assert response.status_code == 200 and response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {"data": {"__typename": "Query"}}
    named = await client.get(
        "/graphql",
        params={
            "query": "query Q($name: String!) { __type(name: $name) { name } } query R { __typename }",
            "operationName": "Q",
            "variables": json.dumps({"name": "Product"}),
        },
    )
    assert named.json() == {"data": {"__type": {"name": "Product"}}}
    assert named.headers["x-request-id"]


async def test_head_is_answered_as_get_without_the_body(client, db):
    """The route's Allow lists HEAD: it is GET without content, so a mutation is refused as over GET."""
    query = {"query": "{ __typename }"}
    got = await client.get("/graphql", params=query, headers=NEW)
    head = await client.head("/graphql", params=query, headers=NEW)
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "content-length", "cache-control", "vary"):
        assert head.headers.get(name) == got.headers.get(name), name
    mutation = {"query": 'mutation { requestPasswordReset(email: "head@example.com") { ok } }'}
    refused = await client.head("/graphql", params=mutation)
    assert refused.status_code == 405 and refused.headers["allow"] == "POST" and refused.content == b""
    put = await client.put("/graphql", content=b"{}")
    assert put.status_code == 405 and "HEAD" in put.headers["allow"]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"variables": "{"}, "The `variables` query parameter is not valid JSON"),
        ({"extensions": "nope"}, "The `extensions` query parameter is not valid JSON"),
        ({"variables": '{"n": Infinity}'}, "The `variables` query parameter is not valid JSON"),
        ({"variables": "[1]"}, "The GraphQL operation's `variables` must be an object or null, if provided."),
        ({"variables": '"x"'}, "The GraphQL operation's `variables` must be an object or null, if provided."),
    ],
)
async def test_a_get_with_bad_parameters_is_400_json(client, params, message):
    response = await client.get("/graphql", params={"query": "{ __typename }", **params})
    assert response.status_code == 400
    assert response.headers["content-type"] == JSON
    assert response.json() == {"errors": [{"message": message}]}


async def test_a_mutation_over_get_is_405_json_and_changes_nothing(client, db):
    mutation = (
        'mutation { register(input: {email: "get@example.com", phone: "+1 202 555 0199", '
        'name: "Get", password: "correct horse battery"}) { errors { code } } }'
    )
    for headers in (NEW, LEGACY, {}):
        response = await client.get("/graphql", params={"query": mutation}, headers=headers)
        assert response.status_code == 405, response.text
        assert response.headers["allow"] == "POST"
        assert response.json() == {"errors": [{"message": REFUSED}]}
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
    posted = await client.post("/graphql", json={"query": mutation})
    assert posted.json()["data"]["register"]["errors"] == []


async def test_a_subscription_over_get_is_400_bad_request(client):
    subscription = 'subscription { saleOrderUpdated(orderId: "1") { id } }'
    response = await client.get("/graphql", params={"query": subscription}, headers=NEW)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_browsers_on_allowed_origins_may_read_the_request_id(client):
    origin = {"origin": "http://localhost:5173"}
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=origin)
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower().split(", ")
    assert response.headers["x-request-id"]
    got = await client.get("/graphql", params={"query": "{ __typename }"}, headers=origin)
    assert "x-request-id" in got.headers["access-control-expose-headers"].lower()


async def test_a_signed_in_answer_is_never_stored_by_a_cache(client, users):
    _, token = await users.signed_in()
    mine = await client.get(
        "/graphql", params={"query": "{ me { id } }"}, headers={"authorization": f"Bearer {token}"}
    )
    assert mine.status_code == 200 and mine.json()["data"]["me"]
    assert mine.headers["cache-control"] == "no-store"
    anonymous = await client.get("/graphql", params={"query": "{ __typename }"})
    assert "cache-control" not in anonymous.headers
    for response in (mine, anonymous):
        assert "Authorization" in response.headers["vary"]
    # One URL, two answers by Accept: a cache must keep them apart.
    typo = {"query": "{ pets(first: 1) { edges { node { nam } } } }"}
    strict = await client.get(
        "/graphql", params=typo, headers={"accept": "application/graphql-response+json"}
    )
    lenient = await client.get("/graphql", params=typo)
    assert (strict.status_code, lenient.status_code) == (400, 200)
    assert {"Accept", "Authorization"} <= {v.strip() for v in strict.headers["vary"].split(",")}
    assert strict.headers["vary"] == lenient.headers["vary"]


async def test_error_answers_carry_the_cache_policy_too(client, users):
    """A refused token, a body that is not JSON, a wrong method: no cache keeps them either."""
    _, token = await users.signed_in()
    signed, origin = {"authorization": f"Bearer {token}"}, {"origin": "http://pos.example"}
    mutation = {"query": "mutation { logout { ok } }"}
    answers = {
        "a refused token": await client.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"authorization": "Bearer nonsense"}
        ),
        "not JSON": await client.post(
            "/graphql", content=b"{", headers={**signed, "content-type": "application/json"}
        ),
        "PUT": await client.put("/graphql", content=b"{}", headers=signed),
        "a mutation over GET": await client.get("/graphql", params=mutation, headers={**signed, **origin}),
        "nowhere": await client.get("/nowhere", headers=signed),
    }
    for name, response in answers.items():
        assert response.status_code >= 400, name
        assert "Authorization" in response.headers["vary"], name
        assert response.headers["cache-control"] == "no-store", name
    assert "Origin" in answers["a mutation over GET"].headers["vary"]  # CORS's own stays
    anonymous = await client.put("/graphql", content=b"{}")
    assert "Authorization" in anonymous.headers["vary"] and "cache-control" not in anonymous.headers


@pytest.mark.parametrize(
    "sent, kept",
    [
        (b"req-42/abc", True),
        (b"x" * 128, True),
        (b"x" * 129, False),  # cut to 64 characters before, silently
        ("ünïcödé".encode(), False),  # answered as mojibake before
        (b"two words", False),
    ],
)
async def test_the_client_request_id_is_kept_as_sent_or_replaced_whole(client, sent, kept):
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"x-request-id": sent})
    answered = response.headers.raw
    (value,) = [v for k, v in answered if k.lower() == b"x-request-id"]
    assert value == sent if kept else (value != sent and len(value) == 36), value
