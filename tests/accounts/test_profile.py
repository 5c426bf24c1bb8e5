"""updateProfile holds the user row lock for the whole update; changing email or phone takes the
current password, checked before the unit and re-checked under the lock."""

import asyncio

import pytest
from sqlalchemy import select

from app.domain.accounts import credentials
from app.domain.accounts import service as accounts
from app.domain.accounts.models import SignInFailure, User
from app.domain.errors import DomainError
from app.domain.locks import lock_row
from app.domain.uow import run_unit
from tests.races import start_unit, unit_held, wait_for_lock_waiters

PASSWORD = "correct horse battery"  # tests.conftest.Users' default

UPDATE = (
    "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { user { name email phone } "
    "errors { code field } } }"
)


async def test_concurrent_updates_of_one_user_are_serialised(db, users):
    user = await users.create(email="one@example.com")

    def rename(uow):
        return accounts.update_profile(uow, user_id=user.id, changes=accounts.ProfileChanges(name="First"))

    async with unit_held(db, rename) as first:  # the row lock is held until this unit commits
        second = start_unit(
            db,
            lambda uow: accounts.update_profile(
                uow,
                user_id=user.id,
                changes=accounts.ProfileChanges(email="two@example.com"),
                verified_password_hash=user.password_hash,
            ),
        )
        # The second update waits for the first's row lock.
        await wait_for_lock_waiters(db, 1, table="users", racers=[second])
        assert not second.done()
    await first
    final = await second
    # The second read the row only after the first committed: both changes survive.
    assert (final.name, final.email) == ("First", "two@example.com")


async def test_phone_taken_meanwhile_by_someone_else_is_conflict(db, users, gql):
    user, token = await users.signed_in(phone="+1 202 555 0150")
    changes = accounts.prepare_profile_changes(
        email=None, phone="(202) 555-0177", name=None, phone_region="US"
    )
    validated, release = asyncio.Event(), asyncio.Event()

    async def update_after_pause(uow):
        validated.set()
        await release.wait()
        return await accounts.update_profile(
            uow, user_id=user.id, changes=changes, verified_password_hash=user.password_hash
        )

    pending = asyncio.create_task(run_unit(db.sessions, update_after_pause, lock_timeout_ms=5000))
    await validated.wait()
    await users.create(phone="+12025550177")  # someone else takes the number and commits
    release.set()
    with pytest.raises(DomainError) as caught:
        await pending
    assert (caught.value.code, caught.value.field) == ("CONFLICT", "phone")
    me = await gql("{ me { phone } }", token=token)
    assert me["data"]["me"]["phone"] == "+12025550150"


async def test_an_email_and_a_phone_another_account_holds_are_both_reported(db, users):
    """Keeping one's own email or phone is no conflict; taking another's is, each named."""
    await users.create(email="taken@example.com", phone="+12025550160")
    user = await users.create(email="me@example.com", phone="+12025550161")
    changes = accounts.prepare_profile_changes(
        email="taken@example.com", phone="(202) 555-0160", name=None, phone_region="US"
    )
    with pytest.raises(DomainError) as caught:
        await run_unit(
            db.sessions,
            lambda uow: accounts.update_profile(
                uow, user_id=user.id, changes=changes, verified_password_hash=user.password_hash
            ),
            lock_timeout_ms=5000,
        )
    assert [(e.code, e.field) for e in caught.value.all()] == [("CONFLICT", "email"), ("CONFLICT", "phone")]
    same = accounts.prepare_profile_changes(
        email="me@example.com", phone="+12025550161", name="Still Me", phone_region="US"
    )
    kept = await run_unit(
        db.sessions,
        lambda uow: accounts.update_profile(uow, user_id=user.id, changes=same),
        lock_timeout_ms=5000,
    )
    assert kept.name == "Still Me"


async def test_update_profile_normalises_and_validates(gql, users):
    _, token = await users.signed_in()
    change = {"email": " New@Example.com ", "phone": "202 555 0188", "currentPassword": PASSWORD}
    ok = (await gql(UPDATE, {"i": change}, token=token))["data"]["updateProfile"]
    assert ok["user"]["email"] == "new@example.com" and ok["user"]["phone"] == "+12025550188"
    bad = (await gql(UPDATE, {"i": {"phone": "not a phone"}}, token=token))["data"]["updateProfile"]
    assert bad == {"user": None, "errors": [{"code": "VALIDATION", "field": "phone"}]}


async def test_update_profile_reports_every_invalid_field_at_once_and_changes_nothing(gql, users):
    _, token = await users.signed_in(name="Unchanged")
    bad = (await gql(UPDATE, {"i": {"email": "nope", "phone": "12", "name": "  "}}, token=token))["data"][
        "updateProfile"
    ]
    assert bad["user"] is None
    assert {(e["code"], e["field"]) for e in bad["errors"]} == {
        ("VALIDATION", "email"),
        ("VALIDATION", "phone"),
        ("VALIDATION", "name"),
    }
    assert (await gql("{ me { name } }", token=token))["data"]["me"]["name"] == "Unchanged"


async def test_update_profile_locks_the_user_row_before_writing(db, users):
    from tests.sql_recorder import record_sql

    user = await users.create()
    with record_sql(db.engine) as sql:
        await run_unit(
            db.sessions,
            lambda uow: accounts.update_profile(
                uow, user_id=user.id, changes=accounts.ProfileChanges(name="Locked")
            ),
            lock_timeout_ms=5000,
        )
    sql.assert_locks_before_write("users")


async def test_changing_email_or_phone_without_the_current_password_changes_nothing(gql, users):
    _, token = await users.signed_in(email="ana@example.com", phone="+1 202 555 0150")
    missing = [{"code": "VALIDATION", "field": "currentPassword"}]
    for change in (
        {"email": "mallory@example.com"},
        {"phone": "+1 202 555 0666"},
        {"email": "mallory@example.com", "currentPassword": ""},
        {"email": "mallory@example.com", "currentPassword": "not my password"},
        {"phone": "+1 202 555 0666", "name": "Mallory", "currentPassword": "not my password"},
    ):
        refused = (await gql(UPDATE, {"i": change}, token=token))["data"]["updateProfile"]
        assert refused == {"user": None, "errors": missing}, change
    me = (await gql("{ me { email phone name } }", token=token))["data"]["me"]
    assert me == {"email": "ana@example.com", "phone": "+12025550150", "name": "Test User"}
    ok = await gql(UPDATE, {"i": {"email": "ana.new@example.com", "currentPassword": PASSWORD}}, token=token)
    assert ok["data"]["updateProfile"]["errors"] == []


async def test_a_name_or_an_unchanged_email_and_phone_need_no_password(gql, users):
    _, token = await users.signed_in(email="ana@example.com", phone="+1 202 555 0150")
    same = {"email": " ANA@example.com", "phone": "(202) 555-0150", "name": "Ana"}
    ok = (await gql(UPDATE, {"i": same}, token=token))["data"]["updateProfile"]
    assert ok == {"user": {"name": "Ana", "email": "ana@example.com", "phone": "+12025550150"}, "errors": []}


async def test_a_password_changed_after_the_check_voids_it(gql, db, users):
    user, token = await users.signed_in(email="ana@example.com")
    new_hash = await credentials.hash_password("a brand new password")

    async def change_password(uow):
        row = await lock_row(uow, User, user.id)
        row.password_hash = new_hash  # as a reset would, committed once the update has checked the old one
        await uow.session.flush()

    async with unit_held(db, change_password) as holder:
        change = {"email": "mallory@example.com", "currentPassword": PASSWORD}
        update = asyncio.create_task(gql(UPDATE, {"i": change}, token=token))
        # The old password matched; now it waits for the row.
        await wait_for_lock_waiters(db, 1, table="users", racers=[update])
    await holder
    refused = (await update)["data"]["updateProfile"]
    assert refused == {"user": None, "errors": [{"code": "VALIDATION", "field": "currentPassword"}]}
    async with db.read() as session:
        assert (await session.get(User, user.id)).email == "ana@example.com"


async def test_wrong_current_passwords_count_as_failed_sign_ins(gql, db, users, monkeypatch):
    monkeypatch.setattr(db.settings, "login_max_failures_per_account", 3)
    user, token = await users.signed_in(email="ana@example.com")

    def change(password: str) -> dict:
        return {"i": {"email": "mallory@example.com", "currentPassword": password}}

    for _ in range(3):
        wrong = (await gql(UPDATE, change("guess"), token=token))["data"]["updateProfile"]
        assert wrong["errors"] == [{"code": "VALIDATION", "field": "currentPassword"}]
    limited = (await gql(UPDATE, change(PASSWORD), token=token))["data"]["updateProfile"]
    assert limited["errors"] == [{"code": "RATE_LIMITED", "field": "currentPassword"}]
    async with db.read() as session:
        failures = (
            await session.scalars(
                select(SignInFailure.failures).where(
                    SignInFailure.kind == "account", SignInFailure.key == "ana@example.com"
                )
            )
        ).one()
    assert failures == 3
