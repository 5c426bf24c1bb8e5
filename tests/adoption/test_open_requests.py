"""A customer holds at most PETPOS_MAX_OPEN_ADOPTION_REQUESTS PENDING requests (one customer
once took every available pet), also when two requests for different pets race."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.db.engine import Database
from app.domain.accounts.models import User
from app.domain.adoption.service import open_requests_of
from app.main import create_app
from app.settings import Settings
from tests.adoption.conftest import APPROVE, CANCEL, REJECT, REQUEST
from tests.conftest import GraphQLClient, make_settings
from tests.races import row_lock_held, wait_for_lock_waiters

LIMIT = 3  # the default, which the test app runs with
REFUSED = {"request": None, "errors": [{"code": "CONFLICT", "field": None}]}
REQUEST_WITH_MESSAGE = REQUEST.replace("errors { code field }", "errors { code field message }")


async def request(gql, pet, token) -> dict:
    return (await gql(REQUEST, {"pet": str(pet.id)}, token=token))["data"]["requestAdoption"]


async def test_the_request_past_the_limit_is_a_conflict_and_changes_nothing(gql, users, pets):
    _, token = await users.signed_in()
    held = [await pets.create(name=f"P{i}") for i in range(LIMIT)]
    for pet in held:
        assert (await request(gql, pet, token))["errors"] == []
    one_more = await pets.create(name="One more")
    refused = await gql(REQUEST_WITH_MESSAGE, {"pet": str(one_more.id)}, token=token)
    refused = refused["data"]["requestAdoption"]
    assert refused["request"] is None
    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("CONFLICT", None)
    assert f"already have {LIMIT} open adoption requests" in error["message"]
    assert await pets.status(one_more.id) == "AVAILABLE" and await pets.requests(one_more.id) == []
    # Someone else is not held back by this customer's requests.
    _, other = await users.signed_in()
    assert (await request(gql, one_more, other))["errors"] == []


@pytest.mark.parametrize("close", ["cancel", "reject", "approve"])
async def test_a_closed_request_frees_a_place(gql, users, pets, close):
    _, token = await users.signed_in()
    _, staff = await users.signed_in("STAFF")
    made = [(await request(gql, await pets.create(name=f"P{i}"), token))["request"] for i in range(LIMIT)]
    assert await request(gql, await pets.create(name="Next"), token) == REFUSED
    document, who, extra = {
        "cancel": (CANCEL, token, {}),
        "reject": (REJECT, staff, {"n": None}),
        "approve": (APPROVE, staff, {"n": None}),
    }[close]
    closed = await gql(document, {"id": made[0]["id"], **extra}, token=who)
    assert next(iter(closed["data"].values()))["errors"] == []
    assert (await request(gql, await pets.create(name="Next again"), token))["errors"] == []


async def test_two_requests_racing_for_the_last_place_make_one_pending_request(db, gql, users, pets):
    customer, token = await users.signed_in()
    for i in range(LIMIT - 1):
        assert (await request(gql, await pets.create(name=f"P{i}"), token))["errors"] == []
    first, second = await pets.create(name="First"), await pets.create(name="Second")
    # Each request locks its own pet, then queues on the customer's row: both have counted
    # nothing yet when the row is let go, so only the lock keeps them from both passing.
    async with row_lock_held(db, User, customer.id):
        racing = [asyncio.create_task(request(gql, pet, token)) for pet in (first, second)]
        await wait_for_lock_waiters(db, 2, table="users")
    outcomes = await asyncio.gather(*racing)
    assert sorted(o["errors"] == [] for o in outcomes) == [False, True]
    assert [o for o in outcomes if o["errors"]] == [REFUSED]
    statuses = sorted([await pets.status(first.id), await pets.status(second.id)])
    assert statuses == ["AVAILABLE", "PENDING"]
    async with db.read() as session:
        assert await session.scalar(open_requests_of(customer.id)) == LIMIT


async def test_the_limit_is_a_setting(database_url, users, pets):
    strict = Database(make_settings(database_url, max_open_adoption_requests=1, pool_size=2))
    transport = httpx.ASGITransport(app=create_app(strict.settings, strict))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://petpos.test") as http:
            gql = GraphQLClient(http)
            _, token = await users.signed_in()
            assert (await request(gql, await pets.create(name="Only"), token))["errors"] == []
            assert await request(gql, await pets.create(name="Second"), token) == REFUSED
    finally:
        await strict.dispose()


def test_the_setting_comes_from_the_environment(monkeypatch):
    assert Settings(database_url="postgresql://localhost/p").max_open_adoption_requests == 3
    monkeypatch.setenv("PETPOS_MAX_OPEN_ADOPTION_REQUESTS", "5")
    assert Settings(database_url="postgresql://localhost/p").max_open_adoption_requests == 5
    monkeypatch.setenv("PETPOS_MAX_OPEN_ADOPTION_REQUESTS", "0")
    with pytest.raises(ValueError):
        Settings(database_url="postgresql://localhost/p")
