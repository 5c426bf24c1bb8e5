"""A bearer token that signs nobody in is answered 401 UNAUTHENTICATED, whatever the operation; no
token at all is anonymous (README, Errors)."""

import time
import uuid

import jwt
import pytest

from app.domain.accounts import credentials
from tests.conftest import TEST_SECRET

ME = "{ me { id } }"
LOGIN = 'mutation { login(email: "a@example.com", password: "pw") { token } }'
PUBLIC = "{ services { id } }"


def expired(user) -> str:
    return credentials.issue_token(
        user_id=user.id, token_version=user.token_version, key=TEST_SECRET, ttl_minutes=-1
    )


async def test_no_token_is_anonymous(gql):
    assert await gql(ME) == {"data": {"me": None}}


async def test_another_authorization_scheme_carries_no_token(client, users):
    # A proxy's Basic credentials in front of a staging server are not ours to judge.
    user, token = await users.signed_in()
    for header in ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", f"Token {token}"):
        response = await client.post("/graphql", json={"query": ME}, headers={"Authorization": header})
        assert (response.status_code, response.json()) == (200, {"data": {"me": None}}), header
    bearer = await client.post("/graphql", json={"query": ME}, headers={"Authorization": f"bEaReR {token}"})
    assert bearer.json() == {"data": {"me": {"id": str(user.id)}}}


@pytest.mark.parametrize("query", [ME, PUBLIC, LOGIN, "{ __typename }"])
@pytest.mark.parametrize("kind", ["garbage", "expired", "foreign key"])
async def test_a_bad_token_is_401_unauthenticated_on_every_operation(gql, users, kind, query):
    user, _ = await users.signed_in()
    token = {
        "garbage": "not.a.jwt",
        "expired": expired(user),
        "foreign key": credentials.issue_token(
            user_id=user.id, token_version=user.token_version, key="another-key" * 4, ttl_minutes=60
        ),
    }[kind]
    response = await gql.raw(query, token=token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert "sign in again" in error["message"]


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": "inf"},
        {"exp": "nan"},
        {"exp": 1e300},
        {"exp": True},
        {"exp": 10**400},
        {"ver": 1.5},
        {"ver": True},
        {"ver": "0"},
        {"sub": "upper"},
        {"sub": "braces"},
    ],
)
async def test_a_signed_token_whose_claims_are_not_as_issued_is_refused(gql, users, claims):
    """With the key, a token whose "exp" was "inf" never expired; a version or id written another way
    was read as the account's."""
    user, _ = await users.signed_in()
    good = {"sub": str(user.id), "ver": user.token_version, "exp": int(time.time()) + 600}
    sub = {"upper": str(user.id).upper(), "braces": f"{{{user.id}}}"}.get(claims.get("sub"))
    forged = jwt.encode({**good, **claims, **({"sub": sub} if sub else {})}, TEST_SECRET, algorithm="HS256")
    assert (await gql.raw(ME, token=forged)).status_code == 401
    honest = jwt.encode(good, TEST_SECRET, algorithm="HS256")
    assert (await gql(ME, token=honest))["data"]["me"]["id"] == str(user.id)


async def test_a_revoked_token_is_refused_and_a_fresh_one_works(gql, users, db):
    user, token = await users.signed_in()
    assert (await gql(ME, token=token))["data"]["me"]["id"] == str(user.id)
    assert (await gql("mutation { logout(everywhere: true) { ok } }", token=token))["data"]["logout"]["ok"]
    refused = await gql.raw(ME, token=token)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_the_refusal_speaks_graphql_response_json_and_get(client, method):
    headers = {"Authorization": "Bearer nope", "Accept": "application/graphql-response+json"}
    if method == "GET":
        response = await client.get("/graphql", params={"query": ME}, headers=headers)
    else:
        response = await client.post("/graphql", json={"query": ME}, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_token_read_before_is_refused_once_it_expires_and_a_forged_one_never_passes():
    """Tokens are verified once per process and kept: the expiry is still checked at every use, and
    a token whose signature does not check is refused however often it is sent."""
    user_id = uuid.uuid4()
    token = credentials.issue_token(user_id=user_id, token_version=3, key=TEST_SECRET, ttl_minutes=1)
    now = time.time()
    assert credentials.read_token(token, key=TEST_SECRET, now=now) == (user_id, 3)
    assert credentials.read_token(token, key=TEST_SECRET, now=now + 59) == (user_id, 3)
    assert credentials.read_token(token, key=TEST_SECRET, now=now + 61) is None
    header, claims, _ = token.split(".")
    forged = f"{header}.{claims}.{'A' * 43}"
    for _ in range(2):
        assert credentials.read_token(forged, key=TEST_SECRET, now=now) is None
    assert credentials.read_token(token, key="another-key" * 4, now=now) is None
