"""Automatic persisted queries, as Apollo's clients speak them, through the real HTTP path: an unknown hash is
Apollo's PersistedQueryNotFound, hash + query is stored after its hash is checked, the hash alone then
runs over POST and GET (a mutation still never over GET); the store is a bounded LRU; with
PETPOS_TRUSTED_DOCUMENTS only the listed documents run."""

import hashlib
import json

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from app.domain.accounts.models import User
from app.main import create_app
from tests.conftest import make_settings

QUERY = "query Typename { __typename }"
NOT_FOUND = {
    "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
}


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}}


async def test_an_unknown_hash_is_persisted_query_not_found_in_apollos_shape(client):
    for response in (
        await client.post("/graphql", json={"extensions": persisted(QUERY)}),
        await client.get("/graphql", params={"extensions": json.dumps(persisted(QUERY))}),
        await client.post(
            "/graphql",
            json={"extensions": persisted(QUERY)},
            headers={"accept": "application/graphql-response+json"},
        ),
    ):
        assert response.status_code == 200, response.text
        assert response.json() == NOT_FOUND
        assert "no-cache" in response.headers["cache-control"]  # a CDN must not keep the miss


async def test_hash_and_query_are_stored_then_the_hash_alone_runs_over_post_and_get(client):
    first = await client.post("/graphql", json={"query": QUERY, "extensions": persisted(QUERY)})
    assert first.json() == {"data": {"__typename": "Query"}}
    again = await client.post("/graphql", json={"extensions": persisted(QUERY)})
    assert again.json() == {"data": {"__typename": "Query"}}
    got = await client.get("/graphql", params={"extensions": json.dumps(persisted(QUERY))})
    assert got.status_code == 200 and got.json() == {"data": {"__typename": "Query"}}


async def test_variables_and_operation_name_travel_with_the_hash(client):
    query = "query T($name: String!) { __type(name: $name) { name } } query U { __typename }"
    await client.post("/graphql", json={"query": query, "extensions": persisted(query), "operationName": "U"})
    got = await client.get(
        "/graphql",
        params={
            "extensions": json.dumps(persisted(query)),
            "operationName": "T",
            "variables": json.dumps({"name": "Product"}),
        },
    )
    assert got.json() == {"data": {"__type": {"name": "Product"}}}


async def test_a_hash_that_does_not_match_the_query_is_400_and_stores_nothing(client):
    response = await client.post(
        "/graphql", json={"query": QUERY, "extensions": persisted("query Other { __typename }")}
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "The persistedQuery sha256Hash does not match the query"}]
    }
    unknown = await client.post("/graphql", json={"extensions": persisted("query Other { __typename }")})
    assert unknown.json() == NOT_FOUND


async def test_a_lone_surrogate_in_a_persisted_query_is_refused_like_any_other_query(
    client, settings, db, tmp_path
):
    """A lone surrogate has no UTF-8 to hash: the query is still answered, never a 500."""
    odd = "{ __typename } #\ud800"

    def body(**fields):  # escaped as \ud800: httpx's own JSON would not encode it
        return {"content": json.dumps(fields), "headers": {"content-type": "application/json"}}

    zeros = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    mismatch = await client.post("/graphql", **body(query=odd, extensions=zeros))
    assert mismatch.status_code == 400
    assert mismatch.json()["errors"][0]["message"] == "The persistedQuery sha256Hash does not match the query"
    plain = (await client.post("/graphql", **body(query=odd))).json()
    assert plain["errors"][0]["extensions"]["code"] == "VALIDATION"
    trusted = tmp_path / "trusted.json"
    trusted.write_text(json.dumps({sha(QUERY): QUERY}))
    app = create_app(make_settings(settings.database_url, trusted_documents=trusted), db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as only:
        refused = await only.post("/graphql", **body(query=odd))
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"


@pytest.mark.parametrize(
    "extension",
    [
        "abc",
        {"version": 1},
        {"version": 1, "sha256Hash": "not-a-hash"},
        {"version": 1, "sha256Hash": 7},
        {"version": 2, "sha256Hash": sha(QUERY)},
        {"version": True, "sha256Hash": sha(QUERY)},
    ],
)
async def test_a_malformed_persisted_query_extension_is_a_clean_400(client, extension):
    response = await client.post(
        "/graphql", json={"query": QUERY, "extensions": {"persistedQuery": extension}}
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["message"]
    assert "data" not in response.json()


async def test_a_persisted_mutation_runs_over_post_never_over_get(client, db):
    mutation = (
        'mutation Register { register(input: {email: "apq@example.com", phone: "+1 202 555 0177", '
        'name: "Apq", password: "correct horse battery"}) { errors { code } } }'
    )
    stored = await client.post("/graphql", json={"query": mutation, "extensions": persisted(mutation)})
    assert stored.json() == {"data": {"register": {"errors": []}}}
    over_get = await client.get("/graphql", params={"extensions": json.dumps(persisted(mutation))})
    assert over_get.status_code == 405 and over_get.headers["allow"] == "POST"
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
    again = await client.post("/graphql", json={"extensions": persisted(mutation)})
    assert again.json()["data"]["register"]["errors"][0]["code"] == "CONFLICT"  # it ran: the email is taken


async def test_the_store_is_a_bounded_lru(settings, db):
    documents = [f"query Q{i} {{ __typename }}" for i in range(3)]
    size = len(documents[0])
    app = create_app(make_settings(settings.database_url, persisted_queries_max_bytes=2 * size), db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for document in documents[:2]:
            await client.post("/graphql", json={"query": document, "extensions": persisted(document)})
        # Q0 read again: Q1 is now the least recently used and makes room for Q2.
        assert "data" in (await client.post("/graphql", json={"extensions": persisted(documents[0])})).json()
        await client.post("/graphql", json={"query": documents[2], "extensions": persisted(documents[2])})
        answers = [
            (await client.post("/graphql", json={"extensions": persisted(d)})).json() for d in documents
        ]
    assert answers == [{"data": {"__typename": "Query"}}, NOT_FOUND, {"data": {"__typename": "Query"}}]


async def test_with_trusted_documents_only_those_run(settings, db, tmp_path):
    trusted = tmp_path / "trusted.json"
    trusted.write_text(json.dumps({sha(QUERY): QUERY}))
    app = create_app(make_settings(settings.database_url, trusted_documents=trusted), db)
    other = "query Other { __typename }"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        by_hash = await client.post("/graphql", json={"extensions": persisted(QUERY)})
        by_text = await client.post("/graphql", json={"query": QUERY})
        freeform = await client.post("/graphql", json={"query": other})
        registered = await client.post("/graphql", json={"query": other, "extensions": persisted(other)})
        unknown = await client.post("/graphql", json={"extensions": persisted(other)})
    assert by_hash.json() == by_text.json() == {"data": {"__typename": "Query"}}
    for refused in (freeform, registered):
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    assert unknown.json() == NOT_FOUND  # nothing was stored


def test_a_trusted_documents_file_whose_hash_does_not_match_is_refused_at_start(database_url, tmp_path):
    trusted = tmp_path / "trusted.json"
    trusted.write_text(json.dumps({sha("query A { __typename }"): QUERY}))
    with pytest.raises(ValidationError, match="does not match its document"):
        make_settings(database_url, trusted_documents=trusted)
