"""updateProfile holds the user row lock for the whole update."""
import asyncio

from app.db.uow import run_unit
from app.domain.accounts import service as accounts
from app.domain.errors import DomainError
from tests.races import wait_for_lock_waiters

import pytest

UPDATE = 'mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { user { name email phone } errors { code field } } }'


async def test_concurrent_updates_of_one_user_are_serialised(db, users):
    user = await users.create(email="one@example.com")
    holding, release = asyncio.Event(), asyncio.Event()

    async def slow_rename(uow):
        changed = await accounts.update_profile(uow, user_id=user.id, changes=accounts.ProfileChanges(name="First"))
        holding.set()
        await release.wait()  # the row lock is held until this unit commits
        return changed

    first = asyncio.create_task(run_unit(db.sessions, slow_rename, lock_timeout_ms=5000))
    await holding.wait()
    second = asyncio.create_task(run_unit(
        db.sessions,
        lambda uow: accounts.update_profile(uow, user_id=user.id, changes=accounts.ProfileChanges(email="two@example.com")),
        lock_timeout_ms=5000))
    await wait_for_lock_waiters(db, 1)  # the second update waits for the first's row lock
    assert not second.done()
    release.set()
    await first
    final = await second
    # The second read the row only after the first committed: both changes survive.
    assert (final.name, final.email) == ("First", "two@example.com")


async def test_phone_taken_meanwhile_by_someone_else_is_conflict(db, users, gql):
    user, token = await users.signed_in(phone="+1 202 555 0150")
    changes = accounts.prepare_profile_changes(email=None, phone="(202) 555-0177", name=None, phone_region="US")
    validated, release = asyncio.Event(), asyncio.Event()

    async def update_after_pause(uow):
        validated.set()
        await release.wait()
        return await accounts.update_profile(uow, user_id=user.id, changes=changes)

    pending = asyncio.create_task(run_unit(db.sessions, update_after_pause, lock_timeout_ms=5000))
    await validated.wait()
    await users.create(phone="+12025550177")  # someone else takes the number and commits
    release.set()
    with pytest.raises(DomainError) as caught:
        await pending
    assert (caught.value.code, caught.value.field) == ("CONFLICT", "phone")
    me = await gql("{ me { phone } }", token=token)
    assert me["data"]["me"]["phone"] == "+12025550150"


async def test_many_concurrent_profile_updates_all_apply_without_errors(gql, users):
    _, token = await users.signed_in()
    results = await asyncio.gather(*[gql(UPDATE, {"i": {"name": f"Name {i}"}}, token=token) for i in range(8)])
    assert all(r["data"]["updateProfile"]["errors"] == [] for r in results)
    me = await gql("{ me { name } }", token=token)
    assert me["data"]["me"]["name"] in {f"Name {i}" for i in range(8)}


async def test_update_profile_normalises_and_validates(gql, users):
    _, token = await users.signed_in()
    ok = (await gql(UPDATE, {"i": {"email": " New@Example.com ", "phone": "202 555 0188"}}, token=token))["data"]["updateProfile"]
    assert ok["user"]["email"] == "new@example.com" and ok["user"]["phone"] == "+12025550188"
    bad = (await gql(UPDATE, {"i": {"phone": "not a phone"}}, token=token))["data"]["updateProfile"]
    assert bad == {"user": None, "errors": [{"code": "VALIDATION", "field": "phone"}]}


async def test_update_profile_reports_every_invalid_field_at_once_and_changes_nothing(gql, users):
    _, token = await users.signed_in(name="Unchanged")
    bad = (await gql(UPDATE, {"i": {"email": "nope", "phone": "12", "name": "  "}}, token=token))["data"]["updateProfile"]
    assert bad["user"] is None
    assert {(e["code"], e["field"]) for e in bad["errors"]} == {
        ("VALIDATION", "email"), ("VALIDATION", "phone"), ("VALIDATION", "name")}
    assert (await gql("{ me { name } }", token=token))["data"]["me"]["name"] == "Unchanged"


async def test_update_profile_locks_the_user_row_before_writing(db, users):
    from tests.sql_recorder import record_sql

    user = await users.create()
    with record_sql(db.engine) as sql:
        await run_unit(db.sessions, lambda uow: accounts.update_profile(
            uow, user_id=user.id, changes=accounts.ProfileChanges(name="Locked")), lock_timeout_ms=5000)
    sql.assert_locks_before_write("users")
