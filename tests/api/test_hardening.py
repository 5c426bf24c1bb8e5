"""HTTP and GraphQL hardening: body limit, malformed JSON, production limits, masked errors."""

import logging
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import strawberry.schema.schema as strawberry_schema
from pydantic import AliasChoices, ValidationError

from app.api.extensions import MAX_CACHED_DOCUMENT, MAX_SIZE, MAX_TOKENS
from app.db.engine import Database
from app.main import create_app
from app.settings import Settings
from tests.conftest import make_settings, scratch_database


@asynccontextmanager
async def http_client(app):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://petpos.test"
    ) as client:
        yield client


@pytest.fixture
async def production(database_url, db):
    async with http_client(create_app(make_settings(database_url, env="production"), db)) as client:
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
    assert streamed.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    # In the media type the client accepts, as every other answer (it was application/json always).
    graphql_response = "application/graphql-response+json"
    answered = await client.post("/graphql", json=big, headers={"accept": graphql_response})
    assert (answered.status_code, answered.headers["content-type"]) == (413, graphql_response)


async def test_malformed_json_is_400(client):
    response = await client.post(
        "/graphql", content=b'{"query": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400


async def test_graphiql_in_development_only(client, production):
    html = {"accept": "text/html"}
    assert "graphiql" in (await client.get("/graphql", headers=html)).text.lower()
    assert (await production.get("/graphql", headers=html)).status_code in (404, 405)


async def test_introspection_is_off_in_production_and_on_in_development(client, production):
    query = {"query": "{ __schema { queryType { name } } }"}
    assert (await client.post("/graphql", json=query)).json()["data"]["__schema"]["queryType"][
        "name"
    ] == "Query"
    refused = (await production.post("/graphql", json=query)).json()
    assert refused.get("data") is None and "introspection" in refused["errors"][0]["message"].lower()


async def test_queries_deeper_than_ten_are_refused_in_production(production):
    deep = "{ saleOrders { edges { node " + "{ mergedInto " * 12 + "{ id }" + " }" * 12 + " } } }"
    body = (await production.post("/graphql", json={"query": deep})).json()
    assert body.get("data") is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


def nested(depth: int) -> str:
    """A document exactly `depth` deep as the limiter counts (the root field is depth 0)."""
    levels = depth - 3  # saleOrders, edges and node are the first three; id is the last
    return "{ saleOrders { edges { node " + "{ mergedInto " * levels + "{ id }" + " }" * levels + " } } }"


async def test_depth_ten_is_allowed_and_eleven_refused_in_production(production, users):
    _, token = await users.signed_in("STAFF")
    headers = {"Authorization": f"Bearer {token}"}
    allowed = (await production.post("/graphql", json={"query": nested(10)}, headers=headers)).json()
    assert allowed == {"data": {"saleOrders": {"edges": []}}}
    refused = (await production.post("/graphql", json={"query": nested(11)}, headers=headers)).json()
    assert refused.get("data") is None
    assert "exceeds maximum operation depth of 10" in refused["errors"][0]["message"]


def nested_through_fragments(depth: int) -> str:
    """`nested(depth)` with each level of mergedInto in a fragment of its own."""
    levels = depth - 3
    fragments = " ".join(
        f"fragment L{i} on SaleOrder {{ mergedInto {{ ...L{i + 1} }} }}" for i in range(levels)
    )
    return (
        "{ saleOrders { edges { node { ...L0 } } } } "
        + fragments
        + f" fragment L{levels} on SaleOrder {{ id }}"
    )


async def test_depth_counts_through_fragments_in_production(production, users):
    _, token = await users.signed_in("STAFF")
    headers = {"Authorization": f"Bearer {token}"}
    query = nested_through_fragments(10)
    allowed = (await production.post("/graphql", json={"query": query}, headers=headers)).json()
    assert allowed == {"data": {"saleOrders": {"edges": []}}}
    query = nested_through_fragments(11)
    refused = (await production.post("/graphql", json={"query": query}, headers=headers)).json()
    assert refused.get("data") is None
    assert refused["errors"][0]["message"] == "'anonymous' exceeds maximum operation depth of 10"


async def test_fragments_that_each_spread_the_next_twice_are_measured_once_each(production):
    """A kilobyte of fragments written out would be 2**40 aliases: counted, not walked (walked
    once per spread, this request would hold the event loop for days)."""
    n = 40
    doubling = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(n))
    query = f"query Q {{ ...F0 }} {doubling} fragment F{n} on Query {{ a: __typename }}"
    body = (await production.post("/graphql", json={"query": query})).json()
    aliases, size = body.pop("errors")
    assert body == {"data": None}
    assert aliases == {"message": f"{2**n} aliases found. Allowed: 30", "extensions": {"code": "VALIDATION"}}
    assert size["message"].startswith(f"The document asks for up to {2**n} field values. Allowed: {MAX_SIZE}")


@pytest.mark.parametrize("env", ["development", "production"])
async def test_a_spread_of_an_undefined_fragment_is_a_validation_error(database_url, db, env, caplog):
    app = create_app(make_settings(database_url, env=env), db)
    async with http_client(app) as client:
        body = (await client.post("/graphql", json={"query": "{ products { ...Nope } }"})).json()
    assert body.get("data") is None
    assert body["errors"] == [
        {
            "message": "Unknown fragment 'Nope'.",
            "locations": [{"line": 1, "column": 17}],
            "extensions": {"code": "VALIDATION"},
        }
    ]


@pytest.mark.parametrize("env", ["development", "production"])
async def test_an_int_literal_too_long_to_convert_is_a_validation_error(database_url, db, env, caplog):
    app = create_app(make_settings(database_url, env=env), db)
    digits = "9" * 5000  # past Python's 4,300-digit limit on converting text to int
    async with http_client(app) as client:
        body = (
            await client.post(
                "/graphql", json={"query": f"{{ pets(first: {digits}) {{ edges {{ cursor }} }} }}"}
            )
        ).json()
    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "VALIDATION"}
    assert error["message"].startswith("Expected value of type 'Int', found: 99999")
    assert "Exceeds" not in error["message"] and "sys." not in error["message"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # the client's mistake: not logged


async def test_documents_over_the_token_limit_are_refused_in_production(production):
    long = "{ " + "__typename " * MAX_TOKENS + "}"  # MAX_TOKENS + 2 tokens, under the alias and depth limits
    refused = (await production.post("/graphql", json={"query": long})).json()
    assert refused.get("data") is None
    assert f"more than {MAX_TOKENS} tokens" in refused["errors"][0]["message"]


@pytest.fixture
def validations(monkeypatch) -> list:
    """The documents strawberry validates (not answered from the validation cache), in order."""
    seen = []
    real_validate = strawberry_schema.validate

    def counting_validate(*args, **kwargs):
        seen.append(args[1])
        return real_validate(*args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counting_validate)
    return seen


@pytest.mark.parametrize("env", ["production", "development"])
async def test_the_same_document_sent_twice_is_validated_once(database_url, db, env, validations):
    query = f"query Once{uuid.uuid4().hex} {{ me {{ id }} }}"  # new to the process-wide caches
    async with http_client(create_app(make_settings(database_url, env=env), db)) as client:
        for _ in range(2):
            assert (await client.post("/graphql", json={"query": query})).json() == {"data": {"me": None}}
    assert len(validations) == 1


async def test_a_document_longer_than_the_cache_keeps_runs_but_is_not_kept(database_url, db, validations):
    """The caches count documents: a long one (a comment costs no tokens) is parsed and validated
    each time instead, so a few hundred of them cannot pin a gigabyte."""
    query = f"query Long{uuid.uuid4().hex} {{ me {{ id }} }}\n#" + "x" * MAX_CACHED_DOCUMENT
    async with http_client(create_app(make_settings(database_url, env="production"), db)) as client:
        for _ in range(2):
            assert (await client.post("/graphql", json={"query": query})).json() == {"data": {"me": None}}
    assert len(validations) == 2


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
    response = await gql.raw(
        'mutation { updateProfile(input: {name: "X"}) { errors { code } } }', token=token
    )
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


async def test_readyz_is_quiet(client, caplog):
    """A load balancer asks every few seconds: the answer costs two reads and writes no log line."""
    caplog.set_level(logging.DEBUG)
    for _ in range(3):
        assert (await client.get("/readyz")).json() == {"status": "ready"}
    assert [r.name for r in caplog.records if not r.name.startswith(("petpos.http", "httpx"))] == []


async def test_readyz_is_503_while_the_database_is_not_at_the_latest_migration(database_url, db):
    async with scratch_database(db, database_url) as empty_url:
        empty = Database(make_settings(empty_url, pool_size=1))
        try:
            async with http_client(create_app(empty.settings, empty)) as client:
                response = await client.get("/readyz")
        finally:
            await empty.dispose()
    assert response.status_code == 503
    assert response.json() == {"status": "database not at the latest migration"}


def test_production_without_a_secret_key_is_refused_with_a_clear_message():
    with pytest.raises(ValidationError, match="PETPOS_SECRET_KEY is required when PETPOS_ENV=production"):
        Settings(env="production", secret_key=None, database_url="postgresql://localhost/petpos")


def test_the_development_secret_is_generated_once_privately_and_reused(tmp_path):
    first = Settings(env="development", secret_key=None, data_dir=tmp_path).signing_key()
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert Settings(env="development", secret_key=None, data_dir=tmp_path).signing_key() == first
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no draft left behind


def test_a_development_secret_written_meanwhile_by_another_worker_is_the_one_used(tmp_path, monkeypatch):
    settings = Settings(env="development", secret_key=None, data_dir=tmp_path)
    (tmp_path / "secret_key").write_text("the other worker's key")
    monkeypatch.setattr(Path, "exists", lambda self: False)  # it appeared just after our check
    assert settings.signing_key() == "the other worker's key"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]


async def test_production_lets_in_the_development_origins_only_when_listed(database_url, db, production):
    """Unset, PETPOS_ALLOWED_ORIGINS named the POS's localhost development servers in production too:
    any page served on a staff member's machine there could call the live API with CORS."""
    dev = "http://localhost:5173"
    asked = {"origin": dev, "access-control-request-method": "POST"}
    assert (await production.options("/graphql", headers=asked)).status_code == 400
    listed = make_settings(database_url, env="production", allowed_origins=[dev])
    async with http_client(create_app(listed, db)) as client:
        preflight = await client.options("/graphql", headers=asked)
        assert (preflight.status_code, preflight.headers["access-control-allow-origin"]) == (200, dev)


async def test_an_allowed_origin_is_read_as_a_browser_sends_one(database_url, db):
    """CORS compares the Origin header with each allowed origin as written: with a trailing slash,
    a capital or a default port, the POS's own origin was refused (while its WebSocket was let in)."""
    written = ["HTTPS://POS.example.com:443/", "http://localhost:5173/", "https://café.example"]
    settings = make_settings(database_url, allowed_origins=written)
    assert settings.allowed_origins == [
        "https://pos.example.com",
        "http://localhost:5173",
        "https://xn--caf-dma.example",  # as a browser sends it
    ]
    async with http_client(create_app(settings, db)) as client:
        for origin in settings.allowed_origins:
            preflight = await client.options(
                "/graphql", headers={"origin": origin, "access-control-request-method": "POST"}
            )
            assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize(
    "origin",
    [
        "not a url",
        "javascript:alert(1)",
        "https://pos.example.com/app",
        "ftp://x",
        "https://*.example.com",
        "https://a b.com",
    ],
)
def test_an_allowed_origin_that_is_not_one_is_refused_at_start(database_url, origin):
    with pytest.raises(ValidationError, match="PETPOS_ALLOWED_ORIGINS holds"):
        make_settings(database_url, allowed_origins=[origin])


def test_an_empty_setting_is_an_unset_one(database_url):
    """As for the URLs: PETPOS_TRUSTED_DOCUMENTS="" read the current directory as JSON, and
    PETPOS_DATA_DIR="" put the embedded database in the current directory."""
    settings = make_settings(database_url, trusted_documents="", data_dir=" ", secret_key="")
    unset = (settings.trusted_documents, settings.data_dir, settings.secret_key)
    assert unset == (None, Path(".petpos"), None)
    with pytest.raises(ValidationError, match="PETPOS_SECRET_KEY is required"):
        make_settings(database_url, env="production", secret_key=" " * 40)


def test_every_variable_set_empty_in_the_environment_is_unset(monkeypatch):
    """PETPOS_POOL_SIZE= and the like were refused at start, and PETPOS_ALLOWED_ORIGINS= allowed no
    origin at all, where the README says an empty variable is an unset one."""
    names = [
        str(field.validation_alias.choices[0])
        if isinstance(field.validation_alias, AliasChoices)
        else f"PETPOS_{name.upper()}"
        for name, field in Settings.model_fields.items()
    ]
    for variable in names:
        monkeypatch.delenv(variable, raising=False)
    defaults = Settings()
    for variable in names:
        monkeypatch.setenv(variable, "")
    assert Settings() == defaults


async def test_a_refused_cors_preflight_has_the_json_error_shape(client):
    preflight = await client.options(
        "/graphql", headers={"origin": "https://elsewhere.example", "access-control-request-method": "POST"}
    )
    assert (preflight.status_code, preflight.headers["content-type"]) == (400, "application/json")
    assert preflight.json() == {"errors": [{"message": "Disallowed CORS origin"}]}
    assert "access-control-allow-origin" not in preflight.headers
