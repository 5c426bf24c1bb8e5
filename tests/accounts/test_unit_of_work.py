"""The unit of work: retries a forced deadlock, answers BUSY after the lock timeout."""

import asyncio

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from app.db.engine import Database
from app.domain.accounts.models import PasswordResetToken, User
from app.domain.errors import DomainError
from app.domain.locks import LockOrderViolation, lock_row
from app.domain.uow import UnitOfWork, run_unit
from app.main import create_app
from tests.conftest import GraphQLClient, make_settings
from tests.races import wait_for_lock_waiters
from tests.sql_recorder import record_sql


def retries(sqlstate: str) -> float:
    """Units of work rerun (or given up) after a lock conflict of this kind, so far."""
    labels = {"operation": "mutation", "sqlstate": sqlstate}
    return REGISTRY.get_sample_value("petpos_lock_retries_total", labels) or 0


async def test_a_forced_deadlock_is_retried_and_both_units_succeed(db, users):
    a, b = await users.create(), await users.create()
    both_hold_first_lock = asyncio.Barrier(2)
    attempts = {"ab": 0, "ba": 0}

    def crosswise(name, first, second):
        async def work(uow: UnitOfWork):
            attempts[name] += 1
            await uow.session.execute(text("SELECT 1 FROM users WHERE id = :id FOR UPDATE"), {"id": first})
            if attempts[name] == 1:
                await both_hold_first_lock.wait()  # each holds one row and asks for the other's
            await uow.session.execute(text("SELECT 1 FROM users WHERE id = :id FOR UPDATE"), {"id": second})
            await uow.session.execute(
                text("UPDATE users SET name = :n WHERE id = :id"), {"n": name, "id": first}
            )
            return name

        return work

    before = retries("40P01")
    results = await asyncio.gather(
        run_unit(db.sessions, crosswise("ab", a.id, b.id), lock_timeout_ms=10_000),
        run_unit(db.sessions, crosswise("ba", b.id, a.id), lock_timeout_ms=10_000),
    )
    assert sorted(results) == ["ab", "ba"]
    assert sorted(attempts.values()) == [1, 2]
    assert retries("40P01") == before + 1  # PostgreSQL broke the deadlock (not the lock timeout)


def lock_waits(table: str) -> float:
    return REGISTRY.get_sample_value("petpos_lock_wait_seconds_count", {"table": table}) or 0


async def test_a_lock_held_past_the_timeout_answers_busy(db, users):
    user = await users.create()
    attempts = 0

    async def touch(uow: UnitOfWork):
        nonlocal attempts
        attempts += 1
        row = await lock_row(uow, User, user.id)
        row.name = "changed"

    before = retries("55P03")
    waits = lock_waits("users")
    async with db.engine.connect() as holder:
        await holder.execute(text("SELECT 1 FROM users WHERE id = :id FOR UPDATE"), {"id": user.id})
        with pytest.raises(DomainError) as caught:
            # Bounded: if lock_timeout stopped working this would wait for the holder forever.
            await asyncio.wait_for(run_unit(db.sessions, touch, lock_timeout_ms=100), timeout=10)
        await holder.rollback()
    assert caught.value.code == "BUSY"
    assert attempts == 4  # the first try and three retries
    assert retries("55P03") == before + 4  # each of them ended by the lock timeout
    assert lock_waits("users") == waits + 4  # and each wait counts in the lock-wait histogram


async def test_update_profile_behind_a_held_user_lock_answers_busy_in_its_payload(database_url, db, users):
    impatient = Database(make_settings(database_url, lock_timeout_ms=50, pool_size=2))
    user, token = await users.signed_in()
    try:
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(impatient.settings, impatient)),
                base_url="http://petpos.test",
            ) as http,
            db.engine.connect() as holder,
        ):
            await holder.execute(text("SELECT 1 FROM users WHERE id = :id FOR UPDATE"), {"id": user.id})
            update = 'mutation { updateProfile(input: {name: "Blocked"}) { user { name } errors { code } } }'
            body = await asyncio.wait_for(GraphQLClient(http)(update, token=token), timeout=10)
            await holder.rollback()
    finally:
        await impatient.dispose()
    assert "errors" not in body  # a payload error, never a top-level one
    assert body["data"]["updateProfile"] == {"user": None, "errors": [{"code": "BUSY"}]}


async def test_nothing_commits_when_the_work_fails(db, users):
    user = await users.create(name="Before")

    async def rename_then_fail(uow: UnitOfWork):
        row = await lock_row(uow, User, user.id)
        row.name = "After"
        await uow.session.flush()
        raise DomainError("VALIDATION", "changed my mind")

    with pytest.raises(DomainError):
        await run_unit(db.sessions, rename_then_fail, lock_timeout_ms=1000)
    async with db.read() as session:
        assert (await session.get(User, user.id)).name == "Before"


async def test_locking_against_the_global_order_is_refused(db, users):
    user = await users.create()

    async def backwards(uow: UnitOfWork):
        await lock_row(uow, PasswordResetToken, user.id)
        await lock_row(uow, User, user.id)  # users come before password_reset_tokens

    with pytest.raises(LockOrderViolation):
        await run_unit(db.sessions, backwards, lock_timeout_ms=1000)


async def test_lock_waiters_are_visible_while_blocked(db, users):
    """The race helper itself: a blocked locker shows up in pg_locks."""
    user = await users.create()
    async with db.engine.connect() as holder:
        await holder.execute(text("SELECT 1 FROM users WHERE id = :id FOR UPDATE"), {"id": user.id})

        async def touch(uow):
            await lock_row(uow, User, user.id)

        blocked = asyncio.create_task(run_unit(db.sessions, touch, lock_timeout_ms=5000))
        await wait_for_lock_waiters(db, 1, table="users")
        assert not blocked.done()
        await holder.rollback()
    await blocked


async def test_the_lock_timeout_is_set_when_a_connection_opens_not_in_every_unit(db, settings):
    async def timeout_in_force(uow: UnitOfWork) -> int:
        setting = "SELECT setting::int FROM pg_settings WHERE name = 'lock_timeout'"  # in ms
        return (await uow.session.execute(text(setting))).scalar_one()

    with record_sql(db.engine) as sql:
        in_force = await run_unit(db.sessions, timeout_in_force, lock_timeout_ms=settings.lock_timeout_ms)
    assert in_force == settings.lock_timeout_ms
    assert [s for s in sql if "set_config" in s] == []
    # A unit that wants another timeout still sets its own, for its transaction only.
    assert await run_unit(db.sessions, timeout_in_force, lock_timeout_ms=123) == 123
    again = await run_unit(db.sessions, timeout_in_force, lock_timeout_ms=settings.lock_timeout_ms)
    assert again == settings.lock_timeout_ms
