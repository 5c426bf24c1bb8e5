"""Nothing secret reaches the log, /metrics labels stay bounded, production suggests no names."""

import logging
import re

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.db.engine import Database
from app.main import create_app
from tests.api.test_hardening import http_client
from tests.conftest import make_settings
from tests.leak_probes import Secrets, provoke_internal_error, send_expected_failures

PRODUCTION_SECRET = "production-secret-key-of-at-least-32-bytes"


@pytest.fixture
def secrets() -> Secrets:
    return Secrets()


async def test_expected_failures_log_no_secret_and_nothing_above_info(client, caplog, secrets):
    caplog.set_level(logging.DEBUG)
    responses = await send_expected_failures(client, secrets)
    bodies = [r.text for r in responses]
    assert sum('"CONFLICT"' in body for body in bodies) == 2, bodies
    assert all("INTERNAL" not in body for body in bodies), bodies
    assert secrets.leaks(caplog.text) == []
    assert [(r.name, r.getMessage()[:200]) for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_an_internal_error_is_logged_once_with_its_traceback_and_no_secret(client, db, caplog, secrets):
    caplog.set_level(logging.DEBUG)
    await send_expected_failures(client, secrets)
    caplog.clear()

    async def execute(statement: str) -> None:
        async with db.engine.begin() as connection:
            await connection.execute(text(statement))

    response = await provoke_internal_error(client, secrets, execute)
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL"
    assert secrets.leaks(caplog.text) == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage()[:200] for r in errors]
    message = errors[0].getMessage()
    assert f"internal error (request {error['extensions']['requestId']})" in message
    assert "Traceback" in message and "CheckViolationError" in message
    assert "constraint_name=leak_probe" in message


async def test_database_errors_never_quote_statement_parameters(database_url, db, secrets):
    both = Database(make_settings(database_url, database_read_url=database_url, pool_size=1))
    try:
        for engine in (both.engine, both.read_engine):
            with pytest.raises(DBAPIError) as raised:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT CAST(:v AS text), 1 / 0"), {"v": secrets.marker})
            assert "division by zero" in str(raised.value)
            assert secrets.marker not in str(raised.value)
    finally:
        await both.dispose()


def operation_labels(metrics_text: str) -> set[str]:
    return set(re.findall(r'^petpos_graphql_\w+\{.*?operation="([^"]*)"', metrics_text, re.MULTILINE))


def requests_count(metrics_text: str, operation: str, outcome: str) -> float:
    sample = rf'^petpos_graphql_requests_total\{{operation="{operation}",outcome="{outcome}"\}} (\S+)$'
    found = re.search(sample, metrics_text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_junk_documents_add_one_invalid_operation_label_to_metrics(client):
    await client.post("/graphql", json={"query": "{ me { id } }"})
    scraped = (await client.get("/metrics")).text
    before, invalid_before = operation_labels(scraped), requests_count(scraped, "invalid", "error")
    junk = [
        *({"query": f"{{ junk{n} }}"} for n in range(100)),
        *({"query": f"mutation {{ junk{n}(x: 1) {{ id }}"} for n in range(50)),  # syntax errors
        *({"query": "query { me { id } }", "operationName": f"Other{n}"} for n in range(25)),
        *({"query": f"{{ me {{ junk{n} }} }}"} for n in range(25)),
    ]
    for body in junk:
        response = await client.post("/graphql", json=body)
        assert response.status_code == 400 or response.json()["errors"], response.text
    scraped = (await client.get("/metrics")).text
    assert operation_labels(scraped) - before <= {"invalid"}
    # Each counted once, as `invalid`.
    assert requests_count(scraped, "invalid", "error") - invalid_before == len(junk)


async def test_a_valid_document_is_labelled_by_its_root_field_even_through_fragments(client):
    before = (await client.get("/metrics")).text
    body = {"query": "fragment Root on Query { me { id } } query Mine { ...Root }"}
    assert (await client.post("/graphql", json=body)).json() == {"data": {"me": None}}
    after = (await client.get("/metrics")).text
    assert requests_count(after, "query.me", "ok") - requests_count(before, "query.me", "ok") == 1
    assert operation_labels(after) - operation_labels(before) <= {"query.me"}


REGISTER = "mutation($input: RegisterInput!) { register(input: $input) { token } }"
SUGGESTING = [
    ("{ mee { id } }", None),
    ('{ products(serch: "x") { edges { node { id } } } }', None),
    ("query($i: RegisterInpt!) { me { id } }", None),
    ("{ products(category: TOYZ) { edges { node { id } } } }", None),
    ('mutation { register(input: {emial: "a@b.c", phone: "1", name: "n", password: "p"}) { token } }', None),
    (REGISTER, {"input": {"emial": "a@b.c", "phone": "1", "name": "n", "password": "p"}}),
]


@pytest.mark.parametrize(
    ("query", "variables"),
    SUGGESTING,
    ids=["field", "argument", "type", "enum value", "input field", "variables"],
)
async def test_production_answers_no_did_you_mean_suggestions(database_url, db, client, query, variables):
    request = {"query": query, "variables": variables}
    development = (await client.post("/graphql", json=request)).json()
    assert "Did you mean" in str(development["errors"])  # development keeps them
    app = create_app(make_settings(database_url, env="production", secret_key=PRODUCTION_SECRET), db)
    async with http_client(app) as production:
        for _ in range(2):  # the second answer comes from the validation cache
            body = (await production.post("/graphql", json=request)).json()
            assert body["errors"] and "Did you mean" not in str(body["errors"]), body


SECRET_PASSWORD = "Sup3r-secret-passw0rd"
SIGN_UP = {"email": "a@b.co", "phone": "1", "name": "n"}


@pytest.mark.parametrize(
    "variables",
    [
        {"input": {**SIGN_UP, "password": SECRET_PASSWORD, "passwrd": "x"}},
        {"input": {**SIGN_UP, "pasword": SECRET_PASSWORD}},
        {"input": {**SIGN_UP, "password": {"value": SECRET_PASSWORD}}},
        {"input": {**SIGN_UP, "password": [SECRET_PASSWORD]}},
        {"input": SECRET_PASSWORD},
    ],
    ids=["unknown field beside it", "misspelt field", "an object", "a list", "not an object"],
)
async def test_a_refused_variable_is_not_written_back_in_the_error(database_url, db, client, variables):
    """A client's error tracker keeps error messages: one must not hold the password sent."""
    request = {"query": REGISTER, "variables": variables}
    development = (await client.post("/graphql", json=request)).json()
    app = create_app(make_settings(database_url, env="production", secret_key=PRODUCTION_SECRET), db)
    async with http_client(app) as production:
        answered = (await production.post("/graphql", json=request)).json()
    for body in (development, answered):
        assert body["errors"] and SECRET_PASSWORD not in str(body), body
        for error in body["errors"]:
            assert error["extensions"]["code"] == "VALIDATION"
            assert error["message"].startswith("Variable '$input'"), error


@pytest.mark.parametrize(
    ("query", "variables", "kept"),
    [
        (
            "query($r: ProductCategory) { products(category: $r) { edges { node { id } } } }",
            {"r": SECRET_PASSWORD},
            "Value does not exist in 'ProductCategory' enum.",
        ),
        (
            "mutation($i: CouponInput!) { createCoupon(input: $i) { errors { code } } }",
            {
                "i": {
                    "code": "X",
                    "kind": "FIXED",
                    "value": "1",
                    "startsAt": f"2030-01-01T00:00:00{SECRET_PASSWORD}",
                }
            },
            "Value cannot represent a DateTime.",
        ),
        (
            "query($first: Int) { products(first: $first) { edges { node { id } } } }",
            {"first": SECRET_PASSWORD},
            "Int cannot represent non-integer value.",
        ),
    ],
    ids=["enum", "DateTime", "Int"],
)
async def test_a_refused_scalar_or_enum_variable_keeps_the_reason_not_the_value(
    client, query, variables, kept
):
    body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    (error,) = body["errors"]
    assert SECRET_PASSWORD not in error["message"] and kept in error["message"], error
