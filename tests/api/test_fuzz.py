"""Property-based fuzzing of the whole GraphQL API (schemathesis, from schema.graphql).

Every query and mutation is generated with arbitrary arguments, Decimal and DateTime edge values
included, and sent through the ASGI app to the test database as an anonymous caller, a customer,
staff and an admin. The property: never a 5xx, never an INTERNAL error. Refusals (top-level errors
for auth and argument validation, payload errors) are all fine.

The default run is short; PETPOS_FUZZ_EXAMPLES=2000 runs that many examples per caller.
"""

from __future__ import annotations

import dataclasses
import json
import os
import string
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from sqlalchemy import text

from app.domain.accounts import credentials
from app.domain.models import Base
from app.domain.uow import run_unit
from app.seed import FEATURE_SEEDS
from tests.conftest import TEST_SECRET

EXAMPLES = int(os.environ.get("PETPOS_FUZZ_EXAMPLES", "200"))
SCHEMA = Path(__file__).resolve().parents[2] / "schema.graphql"

GARBAGE = ["", " ", "abc", "null", "true", "[]", "{}", "1,5", "1 000", "0x10", "1_000", "١٢", "--1", "½"]
DECIMAL_EDGES = [
    *("NaN", "-NaN", "sNaN", "nan", "Infinity", "-Infinity", "inf", "1e999", "-1e999", "1e-999"),
    *("0", "-0", "0.00", "0.001", "0.005", "-0.01", "0.01", "1", "999", "1000000.00", "1000000.01"),
    *("9999999999.99", "10000000000", "-9999999999.99", "1E+2", " 1", "1.", ".5", "+1"),
    "123456789012345678901234567890.123456789012345678901234567890",
    *("1e999999999", "-1e999999999", "1e-999999999"),  # past the decimal context's exponent limits
]
DATETIME_EDGES = [
    *("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00-23:59"),
    *("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59+14:00"),
    *("9999-12-31T24:00:00Z", "0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z", "2030-02-30T00:00:00Z"),
    *("2026-11-27T10:00:00", "2026-11-27", "2026-11-27T10:00:00+25:00", "2026-11-27T10:00:00.1234567Z"),
    *("2026-W48-5", "2026-331", "T10:00", "24:00", "2026-11-27T10:00:00 +01:00", "2026-13-01T00:00:00Z"),
]


def offsets() -> st.SearchStrategy[timezone]:
    return st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timezone(timedelta(minutes=m)))


def decimals() -> st.SearchStrategy:
    """Decimal literals: strings (amounts, edges, any number or text) and bare numbers."""
    as_text = st.one_of(
        st.sampled_from(DECIMAL_EDGES + GARBAGE),
        st.decimals(places=2, min_value=-1, max_value=2_000_000).map(str),
        st.decimals(allow_nan=True, allow_infinity=True).map(str),
        st.text(string.digits + ".-+eE", max_size=30),
        st.text(max_size=20),
    )
    numbers = st.one_of(
        st.integers().map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.sampled_from(["1e999", "-1e999", "1e-999", "0.1e1"]).map(nodes.Float),
    )
    return st.one_of(as_text.map(nodes.String), numbers)


def datetimes() -> st.SearchStrategy:
    """DateTime literals: moments with any offset or none, calendar edges, text, non-strings."""
    moments = st.one_of(
        st.datetimes(timezones=st.none() | st.just(UTC) | offsets()),
        # The calendar's ends, where an offset can carry the moment out of years 1 to 9999.
        st.datetimes(max_value=datetime(1, 1, 2), timezones=offsets()),
        st.datetimes(min_value=datetime(9999, 12, 31), timezones=offsets()),
    ).map(lambda d: d.isoformat())
    as_text = st.one_of(st.sampled_from(DATETIME_EDGES + GARBAGE), moments, st.text(max_size=30))
    return st.one_of(
        as_text.map(nodes.String), st.integers().map(nodes.Int), st.booleans().map(nodes.Boolean)
    )


# Ids of the rows in the database, refreshed after every example, so that operations reach past
# "not found" into the records the fuzzer and the demo data made.
KNOWN_IDS: list[str] = []


def ids() -> st.SearchStrategy:
    """ID literals: mostly ids of existing rows, else any UUID, any text or a number."""
    known = st.integers(min_value=0).map(lambda i: KNOWN_IDS[i % len(KNOWN_IDS)] if KNOWN_IDS else "")
    return st.one_of(
        known.map(nodes.String),
        st.uuids().map(nodes.String),
        st.text(max_size=40).map(nodes.String),
        st.integers().map(nodes.Int),
    )


schemathesis.graphql.scalar("ID", ids())
schemathesis.graphql.scalar("Decimal", decimals())
schemathesis.graphql.scalar("DateTime", datetimes())
schema = schemathesis.graphql.from_path(SCHEMA)
OPERATIONS = schema.as_strategy()
TYPES = graphql.build_schema(SCHEMA.read_text())


def as_variables(document: str) -> tuple[str, dict[str, Any]]:
    """The same operation with every argument sent as a variable of the argument's type:
    schemathesis writes values into the document, and variables are parsed by other code."""
    type_info = graphql.TypeInfo(TYPES)
    variables: dict[str, Any] = {}
    definitions: list[graphql.VariableDefinitionNode] = []

    class Hoist(graphql.Visitor):
        def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> graphql.ArgumentNode | None:
            argument = type_info.get_argument()
            if argument is None:
                return None
            variable = graphql.VariableNode(name=graphql.NameNode(value=f"v{len(variables)}"))
            variables[variable.name.value] = graphql.value_from_ast_untyped(node.value)
            kind = graphql.language.parser.parse_type(str(argument.type))
            definitions.append(graphql.VariableDefinitionNode(variable=variable, type=kind))
            return graphql.ArgumentNode(name=node.name, value=variable)

        def leave_operation_definition(self, node: graphql.OperationDefinitionNode, *_: Any) -> Any:
            return dataclasses.replace(node, variable_definitions=tuple(definitions))

    hoisted = graphql.visit(graphql.parse(document), graphql.TypeInfoVisitor(type_info, Hoist()))
    return graphql.print_ast(hoisted), variables


ALL_IDS = " UNION ALL ".join(
    f'SELECT id::text FROM "{table.name}"' for table in Base.metadata.sorted_tables if "id" in table.c
)


async def refresh_known_ids(db) -> None:
    async with db.engine.connect() as connection:
        KNOWN_IDS[:] = (await connection.execute(text(ALL_IDS + " LIMIT 500"))).scalars().all()


@pytest.fixture
async def seeded(db):
    """The demo catalog, coupon and pets, made by the same code `petpos seed --demo` runs."""
    for seed in FEATURE_SEEDS:
        await run_unit(db.sessions, seed, lock_timeout_ms=3000)
    await refresh_known_ids(db)


@pytest.fixture
async def caller(request, users, db):
    """A function giving the caller's current token (None when anonymous): the fuzzer may sign
    the account out everywhere or change its password, which turns the old token away."""
    user = await users.create(request.param) if request.param else None

    async def token() -> str | None:
        if user is None:
            return None
        async with db.engine.connect() as connection:
            query = text("SELECT token_version FROM users WHERE id = :id")
            version = (await connection.execute(query, {"id": user.id})).scalar_one_or_none()
        return credentials.issue_token(
            user_id=user.id, token_version=version or 0, key=TEST_SECRET, ttl_minutes=60
        )

    return token


@pytest.mark.parametrize("caller", [None, "CUSTOMER", "STAFF", "ADMIN"], indirect=True)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=OPERATIONS, in_variables=st.booleans())
async def test_no_operation_answers_5xx_or_internal(seeded, db, client, caller, case, in_variables):
    document, variables = as_variables(case.body) if in_variables else (case.body, {})
    token = await caller()
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    # Python's json writes 1e999 as Infinity, as a careless client would (answered 400: not JSON).
    body = json.dumps({"query": document, "variables": variables})
    response = await client.post("/graphql", content=body, headers=headers)
    sent = f"{document}\nvariables: {variables!r}\nanswer: {response.status_code} {response.text}"
    assert response.status_code < 500, sent
    errors = response.json().get("errors") or []
    assert "INTERNAL" not in [(error.get("extensions") or {}).get("code") for error in errors], sent
    await refresh_known_ids(db)
