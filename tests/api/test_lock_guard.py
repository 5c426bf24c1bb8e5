"""The suite-wide lock guard (tests/lock_guard.py) catches a unit that writes before it locks, and a
mutation's unit that locks a table its declaration does not name."""

import pytest
from sqlalchemy import select

from app.domain.accounts.models import User
from app.domain.locks import lock_row
from app.domain.uow import run_unit
from tests.lock_guard import UndeclaredLock, WriteBeforeLock, taken_violations


async def test_a_unit_that_writes_before_locking_fails_the_test(db, users):
    user = await users.create()

    async def rename_without_lock(uow):
        user.name = "Unlocked"
        await uow.session.merge(user)
        await uow.session.flush()

    with pytest.raises(WriteBeforeLock):
        await run_unit(db.sessions, rename_without_lock, lock_timeout_ms=3000)
    assert len(taken_violations()) == 1  # seen, and taken here so the suite's check passes


async def test_a_unit_that_locks_first_or_declares_itself_lock_free_passes(db, users):
    user = await users.create()

    async def rename_under_lock(uow):
        locked = await lock_row(uow, User, user.id)
        locked.name = "Locked"
        await uow.session.flush()

    async def create_only(uow):
        uow.lock_free("a new row nobody else can see")
        uow.session.add(User(email="new@example.com", phone="+12025550999", name="New", password_hash="x"))
        await uow.session.flush()

    await run_unit(db.sessions, rename_under_lock, lock_timeout_ms=3000)
    await run_unit(db.sessions, create_only, lock_timeout_ms=3000)
    async with db.read() as session:  # both written and committed, neither stopped by the guard
        names = (await session.execute(select(User.email, User.name).order_by(User.email))).all()
    assert [tuple(row) for row in names] == [("new@example.com", "New"), (user.email, "Locked")]
    assert taken_violations() == []


async def test_a_mutation_that_locks_a_table_it_does_not_declare_fails_the_test(db, users):
    user = await users.create()

    async def lock_the_user(uow):
        await lock_row(uow, User, user.id)

    # updateProfile declares users; createPet declares no lock at all.
    await run_unit(db.sessions, lock_the_user, lock_timeout_ms=3000, operation="updateProfile")
    with pytest.raises(UndeclaredLock, match="createPet locks users"):
        await run_unit(db.sessions, lock_the_user, lock_timeout_ms=3000, operation="createPet")
    assert taken_violations() == ["createPet locked users"]
