"""logout: everywhere bumps the token version under the user row lock, so every token of the
user stops working; without it the tokens are stateless and only the client forgets its own."""

import asyncio

from app.domain.accounts import service as accounts
from app.domain.accounts.models import User
from app.domain.uow import run_unit
from tests.races import row_lock_held, wait_for_lock_waiters
from tests.sql_recorder import record_sql

LOGOUT = "mutation($e: Boolean) { logout(everywhere: $e) { ok errors { code } } }"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token errors { code } } }"
RENAME = 'mutation { updateProfile(input: {name: "Renamed"}) { user { name } errors { code } } }'
OK = {"ok": True, "errors": []}


async def second_token(gql, email: str) -> str:
    return (await gql(LOGIN, {"e": email, "p": "correct horse battery"}))["data"]["login"]["token"]


async def test_logout_everywhere_signs_out_every_token_of_the_user_this_one_included(gql, users):
    user, phone_token = await users.signed_in(email="ana@example.com")
    tablet_token = await second_token(gql, "ana@example.com")
    _, someone_else = await users.signed_in()
    assert (await gql(LOGOUT, {"e": True}, token=phone_token))["data"]["logout"] == OK
    for token in (phone_token, tablet_token):
        for query in ("{ me { id } }", RENAME):
            denied = await gql.raw(query, token=token)
            assert denied.status_code == 401
            assert denied.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await gql("{ me { id } }", token=someone_else))["data"]["me"] is not None
    fresh = await second_token(gql, "ana@example.com")  # signing in again works
    assert (await gql("{ me { id } }", token=fresh))["data"]["me"]["id"] == str(user.id)


async def test_logout_without_everywhere_is_ok_and_the_token_stays_valid_until_it_expires(gql, users):
    user, token = await users.signed_in()
    assert (await gql(LOGOUT, {}, token=token))["data"]["logout"] == OK
    assert (await gql(LOGOUT, {"e": False}, token=token))["data"]["logout"] == OK
    assert (await gql("{ me { id } }", token=token))["data"]["me"]["id"] == str(user.id)


async def test_anonymous_logout_is_unauthenticated(gql):
    for everywhere in (True, False):
        body = await gql(LOGOUT, {"e": everywhere})
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_everywhere_locks_the_user_row_before_writing(db, users):
    user = await users.create()
    with record_sql(db.engine) as sql:
        await run_unit(
            db.sessions, lambda uow: accounts.sign_out_everywhere(uow, user_id=user.id), lock_timeout_ms=5000
        )
    sql.assert_locks_before_write("users")


async def test_logouts_everywhere_queued_on_the_user_row_each_bump_the_version(gql, db, users):
    user, token = await users.signed_in()
    tokens = [token] + [await second_token(gql, user.email) for _ in range(4)]
    async with row_lock_held(db, User, user.id):
        logouts = [asyncio.create_task(gql(LOGOUT, {"e": True}, token=t)) for t in tokens]
        await wait_for_lock_waiters(db, 5, table="users")  # all five are signed in and wait for the row
    assert [r["data"]["logout"] for r in await asyncio.gather(*logouts)] == [OK] * 5
    async with db.read() as session:
        assert (await accounts.load_user(session, user.id)).token_version == user.token_version + 5
