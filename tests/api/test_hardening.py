"""HTTP and GraphQL hardening: body limit, malformed JSON, production limits, masked errors."""
import httpx
import pytest

from app.main import create_app
from tests.conftest import make_settings


@pytest.fixture
async def production(database_url, db):
    app = create_app(make_settings(database_url, env="production"), db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://petpos.test") as client:
        yield client


async def test_bodies_over_one_mebibyte_are_refused_with_413(client):
    big = {"query": "{ me { id } }", "variables": {"pad": "x" * (1024 * 1024)}}
    response = await client.post("/graphql", json=big)
    assert response.status_code == 413
    # Also when the client streams without a Content-Length.
    async def chunks():
        for _ in range(20):
            yield b" " * 65536
    streamed = await client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413


async def test_malformed_json_is_400(client):
    response = await client.post("/graphql", content=b'{"query": ', headers={"content-type": "application/json"})
    assert response.status_code == 400


async def test_graphiql_in_development_only(client, production):
    html = {"accept": "text/html"}
    assert "graphiql" in (await client.get("/graphql", headers=html)).text.lower()
    assert (await production.get("/graphql", headers=html)).status_code in (404, 405)


async def test_introspection_is_off_in_production_and_on_in_development(client, production):
    query = {"query": "{ __schema { queryType { name } } }"}
    assert (await client.post("/graphql", json=query)).json()["data"]["__schema"]["queryType"]["name"] == "Query"
    refused = (await production.post("/graphql", json=query)).json()
    assert refused.get("data") is None and "introspection" in refused["errors"][0]["message"].lower()


async def test_queries_deeper_than_ten_are_refused_in_production(production):
    deep = "{ saleOrders { edges { node " + "{ mergedInto " * 12 + "{ id }" + " }" * 12 + " } } }"
    body = (await production.post("/graphql", json={"query": deep})).json()
    assert body.get("data") is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_too_many_aliases_are_refused_in_production(production):
    many = "{ " + " ".join(f"a{i}: me {{ id }}" for i in range(40)) + " }"
    body = (await production.post("/graphql", json={"query": many})).json()
    assert body.get("data") is None and "aliases" in body["errors"][0]["message"].lower()


async def test_unexpected_errors_are_masked_as_internal_with_a_request_id(gql, users, monkeypatch):
    from app.domain.accounts import service

    async def explode(*args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(service, "update_profile", explode)
    _, token = await users.signed_in()
    response = await gql.raw('mutation { updateProfile(input: {name: "X"}) { errors { code } } }', token=token)
    body = response.json()
    error = body["errors"][0]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]
    assert "hunter2" not in response.text


async def test_health_readiness_and_metrics(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    await client.post("/graphql", json={"query": "{ me { id } }"})
    text = (await client.get("/metrics")).text
    assert 'petpos_graphql_requests_total{operation="query.me",outcome="ok"}' in text
    assert "petpos_db_pool_checked_out" in text
