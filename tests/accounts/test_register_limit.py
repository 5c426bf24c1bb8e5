"""New accounts are counted per client address, in PostgreSQL: past the limit `register` is
RATE_LIMITED until the window passes, and a refused request costs no argon2 and is not counted."""

import asyncio
import re
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from app.domain.accounts import credentials
from app.domain.accounts.models import SignInFailure
from app.migrations import alembic_config
from tests.accounts.test_register import REGISTER, count_users, register_input
from tests.accounts.test_sign_in_limits import client_at


@pytest.fixture
def three_per_address(db, monkeypatch):
    monkeypatch.setattr(db.settings, "register_max_per_address", 3)


async def register_from(gql, n: int) -> dict:
    """Register the n-th test account (its own email and phone)."""
    data = await gql(REGISTER, register_input(email=f"user{n}@example.com", phone=f"+1 202 555 {n:04d}"))
    return data["data"]["register"]


def refused(payload: dict) -> str:
    """The wait the RATE_LIMITED answer gives ("60 minutes")."""
    [error] = payload["errors"]
    assert error["code"] == "RATE_LIMITED" and error["field"] is None
    assert payload["token"] is None and payload["user"] is None
    return re.fullmatch(
        r"Too many new accounts from this address; try again in (\d+ minutes)", error["message"]
    ).group(1)


async def registrations(db) -> dict[str, int]:
    async with db.read() as session:
        rows = (await session.scalars(select(SignInFailure).where(SignInFailure.kind == "register"))).all()
    return {row.key: row.failures for row in rows}


async def test_past_the_limit_an_address_is_refused_until_its_window_passes(app, db, three_per_address):
    async with client_at(app, "203.0.113.7") as gql, client_at(app, "198.51.100.9") as other:
        assert [(await register_from(gql, n))["errors"] for n in (1, 2)] == [[], []]
        taken = await gql(REGISTER, register_input(email="user1@example.com", phone="+1 202 555 0099"))
        assert [e["code"] for e in taken["data"]["register"]["errors"]] == ["CONFLICT"]  # counted too
        assert refused(await register_from(gql, 3)) == "60 minutes"
        assert refused(await register_from(gql, 4)) == "60 minutes"
        assert (await register_from(other, 5))["errors"] == []  # another address has its own count
        assert await count_users(db) == 3
        assert await registrations(db) == {"203.0.113.7": 3, "198.51.100.9": 1}  # refusals not counted

        async with db.engine.begin() as connection:
            earlier = SignInFailure.window_started_at - timedelta(minutes=61)
            await connection.execute(update(SignInFailure).values(window_started_at=earlier))
        assert (await register_from(gql, 3))["errors"] == []
        assert await registrations(db) == {"203.0.113.7": 1, "198.51.100.9": 1}


async def test_a_refused_registration_hashes_no_password(app, db, three_per_address, monkeypatch):
    hashed = []
    real = credentials.hash_password

    async def counting(password: str) -> str:
        hashed.append(password)
        return await real(password)

    monkeypatch.setattr(credentials, "hash_password", counting)
    async with client_at(app, "203.0.113.7") as gql:
        for n in range(1, 6):
            await register_from(gql, n)
    assert len(hashed) == 3 and await count_users(db) == 3


async def test_input_refused_as_invalid_is_not_counted(app, db, three_per_address):
    async with client_at(app, "203.0.113.7") as gql:
        for _ in range(5):
            bad = await gql(REGISTER, register_input(email="not an email"))
            assert [e["code"] for e in bad["data"]["register"]["errors"]] == ["VALIDATION"]
        assert (await register_from(gql, 1))["errors"] == []
    assert await registrations(db) == {"203.0.113.7": 1}


async def test_parallel_registrations_from_one_address_make_no_more_accounts_than_the_limit(
    app, db, three_per_address
):
    """The count and the check are one statement on one row: parallel requests take the places
    one by one, none sees a count another has already passed."""
    async with client_at(app, "2001:db8::1") as gql:
        answers = await asyncio.gather(*(register_from(gql, n) for n in range(1, 9)))
    assert sorted("OK" if not a["errors"] else a["errors"][0]["code"] for a in answers) == (
        ["OK"] * 3 + ["RATE_LIMITED"] * 5
    )
    assert await count_users(db) == 3
    assert await registrations(db) == {"2001:db8::/64": 3}  # an IPv6 client counts as its /64


async def test_migration_0022_down_gives_the_counters_back_to_sign_in_alone(app, db, database_url):
    async with client_at(app, "203.0.113.7") as gql:
        assert (await register_from(gql, 1))["errors"] == []
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0021_coupon_window_finite")
    try:
        assert await registrations(db) == {}  # the older check constraint would refuse them
        with pytest.raises(IntegrityError, match="ck_sign_in_failures_kind_known"):
            async with db.engine.begin() as connection:
                await connection.execute(insert(SignInFailure).values(kind="register", key="k", failures=1))
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")
