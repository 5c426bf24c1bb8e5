"""Failed sign-ins are limited per account and per client address, in PostgreSQL: past the limit
login is RATE_LIMITED, the right password included, until the window passes."""

import asyncio
import re
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from app.db.engine import Database
from app.domain.accounts import credentials
from app.domain.accounts.models import SignInFailure
from app.domain.accounts.sign_in_limits import SignInKeys, SignInLimits, Taken, address_key, release, reserve
from app.domain.uow import run_unit
from app.main import create_app
from tests.conftest import GraphQLClient
from tests.races import start_unit, unit_held, wait_for_lock_waiters
from tests.sql_recorder import record_sql

LOGIN = (
    "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token errors { code message } } }"
)
RIGHT, WRONG = "correct horse battery", "wrong password"
INVALID = {"token": None, "errors": [{"code": "INVALID_CREDENTIALS", "message": "Wrong email or password"}]}


@pytest.fixture
def small_limits(db, monkeypatch):
    """3 failures per account, 6 per address: the rules with less argon2 than the defaults (10, 50)."""
    monkeypatch.setattr(db.settings, "login_max_failures_per_account", 3)
    monkeypatch.setattr(db.settings, "login_max_failures_per_address", 6)


@asynccontextmanager
async def client_at(app, address: str):
    """A GraphQL client whose requests come from `address` (the ASGI peer address)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://petpos.test") as http:
        yield GraphQLClient(http)


async def login(gql, email: str, password: str) -> dict:
    return (await gql(LOGIN, {"e": email, "p": password}))["data"]["login"]


def aliased_logins(pairs: list[tuple[str, str]]) -> str:
    fields = " ".join(
        f'a{i}: login(email: "{email}", password: "{password}") {{ token errors {{ code }} }}'
        for i, (email, password) in enumerate(pairs)
    )
    return f"mutation {{ {fields} }}"


def codes(data: dict) -> list[str]:
    return [p["errors"][0]["code"] if p["errors"] else "OK" for p in data.values()]


async def counters(db) -> dict[tuple[str, str], int]:
    async with db.read() as session:
        return {(r.kind, r.key): r.failures for r in (await session.scalars(select(SignInFailure))).all()}


async def window_started_earlier(db, **delta: int) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(
            update(SignInFailure).values(
                window_started_at=SignInFailure.window_started_at - timedelta(**delta)
            )
        )


def rate_limited(payload: dict) -> str:
    """The wait the RATE_LIMITED message gives ("15 minutes")."""
    [error] = payload["errors"]
    assert error["code"] == "RATE_LIMITED" and payload["token"] is None
    return re.fullmatch(
        r"Too many failed sign-ins; try again in (\d+ (?:minutes|seconds?))", error["message"]
    ).group(1)


async def test_past_the_account_limit_even_the_right_password_waits_for_the_window(gql, db, users):
    await users.create(email="ana@example.com")
    for _ in range(10):  # PETPOS_LOGIN_MAX_FAILURES_PER_ACCOUNT
        assert await login(gql, "ana@example.com", WRONG) == INVALID
    # PETPOS_LOGIN_WINDOW_MINUTES
    assert rate_limited(await login(gql, " Ana@Example.com", RIGHT)) == "15 minutes"
    assert rate_limited(await login(gql, "ana@example.com", WRONG)) == "15 minutes"
    assert await counters(db) == {("account", "ana@example.com"): 10, ("address", "127.0.0.1"): 10}
    await window_started_earlier(db, minutes=14, seconds=30)
    count, unit = rate_limited(await login(gql, "ana@example.com", RIGHT)).split()
    assert unit == "seconds" and 0 < int(count) <= 30
    await window_started_earlier(db, seconds=30)  # the window passes
    assert (await login(gql, "ana@example.com", RIGHT))["token"]


async def test_a_failure_after_the_window_passed_starts_a_fresh_count(gql, db, users, small_limits):
    await users.create(email="ana@example.com")
    for _ in range(3):
        await login(gql, "ana@example.com", WRONG)
    await window_started_earlier(db, minutes=15)
    assert await login(gql, "ana@example.com", WRONG) == INVALID
    assert await counters(db) == {("account", "ana@example.com"): 1, ("address", "127.0.0.1"): 1}


async def test_an_unknown_email_is_limited_like_a_known_one(gql, users, small_limits):
    for _ in range(3):
        assert await login(gql, "ghost@example.com", WRONG) == INVALID
    assert rate_limited(await login(gql, "ghost@example.com", WRONG)) == "15 minutes"


async def test_a_document_of_30_aliased_logins_counts_30_attempts(gql, db):
    guesses = (await gql(aliased_logins([(f"guess{i}@example.com", WRONG) for i in range(30)])))["data"]
    assert codes(guesses) == ["INVALID_CREDENTIALS"] * 30
    assert (await counters(db))[("address", "127.0.0.1")] == 30


async def test_aliases_past_a_limit_are_refused_one_by_one(gql, db, users, small_limits):
    await users.create(email="ana@example.com")
    attempts = [("ana@example.com", WRONG)] * 29 + [("ana@example.com", RIGHT)]
    one_account = (await gql(aliased_logins(attempts)))["data"]
    assert codes(one_account) == ["INVALID_CREDENTIALS"] * 3 + ["RATE_LIMITED"] * 27
    many_accounts = (await gql(aliased_logins([(f"guess{i}@example.com", WRONG) for i in range(30)])))["data"]
    assert codes(many_accounts) == ["INVALID_CREDENTIALS"] * 3 + ["RATE_LIMITED"] * 27
    # Refused attempts cost no argon2 and are not counted.
    assert await counters(db) == {
        ("account", "ana@example.com"): 3,
        ("address", "127.0.0.1"): 6,
        **{("account", f"guess{i}@example.com"): 1 for i in range(3)},
    }


async def test_the_address_limit_spans_accounts_and_other_addresses_still_sign_in(
    app, db, users, small_limits
):
    await users.create(email="ana@example.com")
    async with client_at(app, "203.0.113.7") as attacker, client_at(app, "198.51.100.20") as neighbour:
        attempts = [(f"user{i}@example.com", WRONG) for i in range(6)]
        guesses = (await attacker(aliased_logins(attempts)))["data"]
        assert codes(guesses) == ["INVALID_CREDENTIALS"] * 6
        assert rate_limited(await login(attacker, "ana@example.com", RIGHT)) == "15 minutes"
        assert (await login(neighbour, "ana@example.com", RIGHT))["token"]
    assert (await counters(db))[("address", "203.0.113.7")] == 6


async def test_the_account_limit_spans_addresses(app, users, small_limits):
    await users.create(email="ana@example.com")
    for i in range(3):
        async with client_at(app, f"203.0.113.{i + 1}") as gql:
            assert await login(gql, "ana@example.com", WRONG) == INVALID
    async with client_at(app, "198.51.100.20") as owner:
        assert rate_limited(await login(owner, "ana@example.com", RIGHT)) == "15 minutes"


async def test_counters_are_shared_by_every_worker(settings, db, users, small_limits):
    """Two apps with their own engines and pools stand for two workers (or hosts)."""
    await users.create(email="ana@example.com")
    other = Database(settings)
    try:
        async with (
            client_at(create_app(settings, db), "203.0.113.7") as first,
            client_at(create_app(settings, other), "203.0.113.7") as second,
        ):
            for i in range(3):
                assert await login(first if i % 2 else second, "ana@example.com", WRONG) == INVALID
            assert rate_limited(await login(first, "ana@example.com", RIGHT)) == "15 minutes"
            assert rate_limited(await login(second, "ana@example.com", RIGHT)) == "15 minutes"
    finally:
        await other.dispose()


async def test_a_blocked_caller_costs_no_argon2(gql, users, monkeypatch, small_limits):
    await users.create(email="ana@example.com")
    for _ in range(3):
        await login(gql, "ana@example.com", WRONG)
    verified = []
    real_verify = credentials.verify_password

    async def counting_verify(password_hash, password):
        verified.append(password)
        return await real_verify(password_hash, password)

    monkeypatch.setattr(credentials, "verify_password", counting_verify)
    assert rate_limited(await login(gql, "ana@example.com", RIGHT)) == "15 minutes"
    assert rate_limited(await login(gql, "ana@example.com", WRONG)) == "15 minutes"
    assert verified == []
    assert await login(gql, "other@example.com", WRONG) == INVALID  # other accounts are still checked
    assert verified == [WRONG]


async def test_a_burst_of_guesses_gets_no_more_password_checks_than_the_limit(
    gql, db, users, monkeypatch, small_limits
):
    """Each attempt takes its place in the counts before its password is checked: with three
    guesses in argon2 at once (the limit), a fourth, even the right password, is refused unchecked,
    as a wrong one is, so the answers tell nothing of it."""
    await users.create(email="ana@example.com")
    checked, release = [], asyncio.Event()
    real_verify = credentials.verify_password

    async def held_verify(password_hash, password):
        checked.append(password)
        await release.wait()
        return await real_verify(password_hash, password)

    monkeypatch.setattr(credentials, "verify_password", held_verify)
    burst = [asyncio.create_task(login(gql, "ana@example.com", WRONG)) for _ in range(3)]
    while len(checked) < 3:  # all three hold a place, none is counted as failed yet
        await asyncio.sleep(0.01)
    late = [asyncio.create_task(login(gql, "ana@example.com", password)) for password in (RIGHT, WRONG)]
    # Until both are answered, or one is checked after all (which fails the test below).
    while not all(task.done() for task in late) and len(checked) == 3:
        await asyncio.sleep(0.01)
    release.set()
    assert await asyncio.gather(*burst) == [INVALID] * 3
    assert [rate_limited(await task) for task in late] == ["15 minutes"] * 2
    assert checked == [WRONG] * 3
    assert await counters(db) == {("account", "ana@example.com"): 3, ("address", "127.0.0.1"): 3}


async def test_a_successful_login_takes_a_place_and_gives_it_back(gql, db, users):
    await users.create(email="ana@example.com")
    with record_sql(db.engine) as sql:
        assert (await login(gql, "ana@example.com", RIGHT))["token"]
    # The user with the counters; the place taken, then given back (the counters left empty).
    assert len(sql.writes()) == 2
    assert await counters(db) == {}


async def test_success_clears_the_account_counter_but_not_the_address_counter(
    gql, db, users, monkeypatch, small_limits
):
    monkeypatch.setattr(db.settings, "login_max_failures_per_address", 10)
    await users.create(email="ana@example.com")
    await users.create(email="mallory@example.com")
    for _ in range(2):
        await login(gql, "ana@example.com", WRONG)
    assert (await login(gql, "ana@example.com", RIGHT))["token"]
    assert (await login(gql, "mallory@example.com", RIGHT))["token"]  # an attacker's own account
    assert await counters(db) == {("address", "127.0.0.1"): 2}
    for _ in range(3):  # a fresh count for the account: three more mistakes before it is refused
        assert await login(gql, "ana@example.com", WRONG) == INVALID
    assert rate_limited(await login(gql, "ana@example.com", RIGHT)) == "15 minutes"


async def test_registrations_are_not_limited(gql, users, small_limits):
    for i in range(6):
        await login(gql, f"nobody{i}@example.com", WRONG)
    register = (
        'mutation { register(input: {email: "new@example.com", phone: "+1 202 555 0199", '
        'name: "New", password: "long enough pw"}) { token errors { code } } }'
    )
    registered = (await gql(register))["data"]["register"]
    assert registered["errors"] == [] and registered["token"]


def test_an_ipv6_client_counts_as_its_slash_64():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7" == address_key("203.0.113.7")
    assert address_key(None) is None and address_key("") is None


LIMITS = SignInLimits(per_account=10, per_address=50, window=timedelta(minutes=15))
ANA = SignInKeys(account="ana@example.com", address="10.0.0.1")
BEA = SignInKeys(account="bea@example.com", address="10.0.0.1")


async def reserved(db, keys: SignInKeys) -> Taken:
    return await run_unit(
        db.sessions, lambda uow: reserve(uow, keys=keys, limits=LIMITS), lock_timeout_ms=3000
    )


async def test_two_right_passwords_from_one_address_at_once_give_back_both_places(db):
    ana, bea = await reserved(db, ANA), await reserved(db, BEA)
    assert (await counters(db))[("address", "10.0.0.1")] == 2
    # Ana's release has taken the address down to 1, not committed; Bea's release, reading 2 at its
    # start, must not decide on that: it waits for the counter, then gives back the last place.
    async with unit_held(db, lambda uow: release(uow, taken=ana, keys=ANA, limits=LIMITS)):
        giving_back = start_unit(db, lambda uow: release(uow, taken=bea, keys=BEA, limits=LIMITS))
        await wait_for_lock_waiters(db, 1, statement=r"\msign_in_failures\M", racers=[giving_back])
    await giving_back
    assert await counters(db) == {}


async def test_a_place_is_given_back_only_in_the_window_it_was_taken_in(db):
    ana = await reserved(db, ANA)
    await window_started_earlier(db, minutes=16)  # Ana's password check outlasted the window ...
    await reserved(db, BEA)  # ... and Bea's attempt, in flight, started the address's next one
    await run_unit(
        db.sessions, lambda uow: release(uow, taken=ana, keys=ANA, limits=LIMITS), lock_timeout_ms=3000
    )
    assert (await counters(db))[("address", "10.0.0.1")] == 1  # Bea's place, still counted


async def test_a_password_reset_forgives_the_accounts_failures_but_not_the_guessers_address(
    app, gql, db, users, small_limits
):
    """Anyone can lock an account with a few guesses; its owner, proving the mailbox with a reset
    code, can sign in at once afterwards."""
    from tests.accounts.test_password_reset import RESET, request_token

    await users.create(email="rae@example.com")
    async with client_at(app, "203.0.113.9") as guesser, client_at(app, "198.51.100.7") as owner:
        for _ in range(3):
            assert await login(guesser, "rae@example.com", WRONG) == INVALID
        assert rate_limited(await login(owner, "rae@example.com", RIGHT)) == "15 minutes"
        code = await request_token(owner, db, "rae@example.com")
        reset = await owner(RESET, {"t": code, "p": "a brand new password"})
        assert reset["data"]["resetPassword"] == {"ok": True, "errors": []}
        assert (await login(owner, "rae@example.com", "a brand new password"))["token"]
        assert await counters(db) == {("address", "203.0.113.9"): 3}
