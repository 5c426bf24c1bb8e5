"""Password reset: outbox in the same transaction, hashed tokens, a few emails per window, any code
sent works until one is used, which spends them all, also under a race."""

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY
from sqlalchemy import func, select, update

from app.domain.accounts import credentials
from app.domain.accounts import service as accounts
from app.domain.accounts.credentials import reset_token_hash
from app.domain.accounts.models import OutboxMessage, PasswordResetToken, User
from app.domain.locks import lock_row
from tests.races import row_lock_held, unit_held, wait_for_lock_waiters

REQUEST = "mutation($e: String!) { requestPasswordReset(email: $e) { ok errors { code } } }"
RESET = (
    "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) { ok "
    "errors { code field } } }"
)
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token errors { code } } }"
OK = {"ok": True, "errors": []}
REFUSED = {"ok": False, "errors": [{"code": "INVALID_TOKEN", "field": "token"}]}


async def request_token(gql, db, email: str) -> str:
    """Request a reset and return the code the new email carries."""
    before = await all_codes(db)
    assert (await gql(REQUEST, {"e": email}))["data"]["requestPasswordReset"] == {"ok": True, "errors": []}
    [code] = await all_codes(db) - before
    return code


async def all_codes(db) -> set[str]:
    async with db.read() as session:
        bodies = (await session.scalars(select(OutboxMessage.body))).all()
    return {re.search(r"new password: (\S+)", body).group(1) for body in bodies}


async def live_codes(db) -> set[str]:
    """The codes sent whose token is neither used nor revoked."""
    async with db.read() as session:
        live = set(
            (
                await session.scalars(
                    select(PasswordResetToken.token_hash).where(
                        PasswordResetToken.used_at.is_(None), PasswordResetToken.revoked_at.is_(None)
                    )
                )
            ).all()
        )
    return {code for code in await all_codes(db) if reset_token_hash(code) in live}


async def counts(db) -> tuple[int, int]:
    """(reset codes stored, emails in the outbox)."""
    async with db.read() as session:
        return (
            await session.scalar(select(func.count()).select_from(PasswordResetToken)),
            await session.scalar(select(func.count()).select_from(OutboxMessage)),
        )


async def test_request_writes_the_email_to_the_outbox_and_stores_only_the_hash(gql, db, users):
    user = await users.create(email="reset@example.com")
    token = await request_token(gql, db, "Reset@Example.com")
    async with db.read() as session:
        rows = (await session.scalars(select(PasswordResetToken))).all()
        outbox = (await session.scalars(select(OutboxMessage))).all()
    assert [r.token_hash for r in rows] == [reset_token_hash(token)]
    assert token not in rows[0].token_hash
    assert [(m.recipient, m.sent_at) for m in outbox] == [(user.email, None)]


async def test_unknown_email_is_ok_and_sends_nothing(gql, db):
    assert (await gql(REQUEST, {"e": "ghost@example.com"}))["data"]["requestPasswordReset"]["ok"] is True
    async with db.read() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []


async def test_a_new_request_keeps_codes_already_sent_and_using_any_one_spends_them_all(gql, db, users):
    await users.create(email="reset@example.com")
    first = await request_token(gql, db, "reset@example.com")
    second = await request_token(gql, db, "reset@example.com")
    third = await request_token(gql, db, "reset@example.com")
    assert await live_codes(db) == {first, second, third}  # a flood of requests cannot lock the owner out
    assert (await gql(RESET, {"t": second, "p": "brand new password"}))["data"]["resetPassword"] == OK
    assert await live_codes(db) == set()
    assert (await gql(RESET, {"t": first, "p": "other password"}))["data"]["resetPassword"] == REFUSED
    assert (await gql(RESET, {"t": third, "p": "other password"}))["data"]["resetPassword"] == REFUSED
    used = (await gql(RESET, {"t": second, "p": "other password"}))["data"]["resetPassword"]
    assert used == {"ok": False, "errors": [{"code": "TOKEN_ALREADY_USED", "field": "token"}]}
    assert (await gql(LOGIN, {"e": "reset@example.com", "p": "brand new password"}))["data"]["login"]["token"]


async def test_requests_past_the_email_limit_are_ok_and_send_nothing_until_the_window_passes(gql, db, users):
    await users.create(email="flood@example.com")
    first = await request_token(gql, db, "flood@example.com")
    for _ in range(6):
        assert (await gql(REQUEST, {"e": "flood@example.com"}))["data"]["requestPasswordReset"] == OK
    assert await counts(db) == (3, 3)  # PETPOS_PASSWORD_RESET_MAX_EMAILS per window
    assert first in await live_codes(db)
    async with db.engine.begin() as connection:  # the window (PETPOS_PASSWORD_RESET_WINDOW_MINUTES) passes
        await connection.execute(
            update(PasswordResetToken).values(
                created_at=PasswordResetToken.created_at - timedelta(minutes=61)
            )
        )
    assert (await gql(REQUEST, {"e": "flood@example.com"}))["data"]["requestPasswordReset"] == OK
    assert await counts(db) == (4, 4)


async def test_two_requests_at_the_email_limit_send_one_email(gql, db, users):
    user = await users.create(email="limit@example.com")
    for _ in range(2):
        await request_token(gql, db, "limit@example.com")
    async with row_lock_held(db, User, user.id):
        racing = [asyncio.create_task(gql(REQUEST, {"e": "limit@example.com"})) for _ in range(2)]
        await wait_for_lock_waiters(db, 2, table="users")  # both have found the user, neither has counted
    assert [r["data"]["requestPasswordReset"] for r in await asyncio.gather(*racing)] == [OK, OK]
    assert await counts(db) == (3, 3)


async def test_double_submitted_reset_applies_once_and_signs_out_old_tokens(gql, db, users):
    user, old_bearer = await users.signed_in(email="reset@example.com", password="old password 1")
    assert (await gql("{ me { id } }", token=old_bearer))["data"]["me"]["id"] == str(user.id)
    token = await request_token(gql, db, "reset@example.com")
    async with row_lock_held(db, User, user.id):
        submits = [asyncio.create_task(gql(RESET, {"t": token, "p": f"new password {i}"})) for i in range(5)]
        # Every submit has found the code (unused) and waits for its user.
        await wait_for_lock_waiters(db, 5, table="users", racers=submits)
    payloads = [r["data"]["resetPassword"] for r in await asyncio.gather(*submits)]
    assert sum(p["ok"] for p in payloads) == 1
    assert sorted(e["code"] for p in payloads for e in p["errors"]) == ["TOKEN_ALREADY_USED"] * 4

    # The bearer token from before the reset no longer works.
    for query in ("{ me { id } }", 'mutation { updateProfile(input: {name: "X"}) { errors { code } } }'):
        denied = await gql.raw(query, token=old_bearer)
        assert denied.status_code == 401
        assert denied.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # Exactly one of the new passwords works.
    logins = [
        (await gql(LOGIN, {"e": "reset@example.com", "p": f"new password {i}"}))["data"]["login"]
        for i in range(5)
    ]
    assert sum(1 for login in logins if login["token"]) == 1


async def test_two_resets_with_two_codes_of_one_user_racing_let_exactly_one_through(gql, db, users):
    user, old_bearer = await users.signed_in(email="race@example.com")
    first = await request_token(gql, db, "race@example.com")
    second = await request_token(gql, db, "race@example.com")
    async with row_lock_held(db, User, user.id):
        resets = [
            asyncio.create_task(gql(RESET, {"t": code, "p": f"password of {code[:6]}"}))
            for code in (first, second)
        ]
        # Both wait for the user, before either has locked a code.
        await wait_for_lock_waiters(db, 2, table="users", racers=resets)
    payloads = [r["data"]["resetPassword"] for r in await asyncio.gather(*resets)]
    assert sorted(p["ok"] for p in payloads) == [False, True]
    [loser] = [p for p in payloads if not p["ok"]]
    assert loser["errors"][0]["code"] in {"INVALID_TOKEN", "TOKEN_ALREADY_USED"}
    winner = first if payloads[0]["ok"] else second
    signed_in = {
        code
        for code in (first, second)
        if (await gql(LOGIN, {"e": "race@example.com", "p": f"password of {code[:6]}"}))["data"]["login"][
            "token"
        ]
    }
    assert signed_in == {winner}
    assert await live_codes(db) == set()
    assert (await gql.raw("{ me { id } }", token=old_bearer)).status_code == 401


async def test_a_reset_racing_a_new_request_spends_the_code_that_request_sends(gql, db, users):
    await users.create(email="race@example.com")
    old = await request_token(gql, db, "race@example.com")

    def new_request(uow):
        return accounts.request_password_reset(
            uow, email="race@example.com", ttl_minutes=30, max_emails=3, window_minutes=60
        )

    # The new code is written, not committed; the user row stays locked.
    async with unit_held(db, new_request) as request:
        reset = asyncio.create_task(gql(RESET, {"t": old, "p": "brand new password"}))
        # The reset has found the old code and waits for the user.
        await wait_for_lock_waiters(db, 1, table="users", racers=[reset])
    await request
    assert (await reset)["data"]["resetPassword"] == OK
    assert await counts(db) == (2, 2)  # the request's email went out
    assert await live_codes(db) == set()  # and its code was spent with the one used
    new = (await all_codes(db)) - {old}
    assert (await gql(RESET, {"t": new.pop(), "p": "other password"}))["data"]["resetPassword"] == REFUSED


async def test_two_resets_and_a_code_written_between_them_never_deadlock(gql, db, users):
    """A reset that held its code while it waited for the user, and one whose code was written in
    between (and sorts first) and that held it while it waited for the first's: each would wait
    for the other. Resets lock the user first, so both queue there instead."""
    user = await users.create(email="dead@example.com")
    first = await request_token(gql, db, "dead@example.com")
    retries = ("petpos_lock_retries_total", {"operation": "resetPassword", "sqlstate": "40P01"})
    deadlocks_before = REGISTRY.get_sample_value(*retries) or 0
    # Held FOR NO KEY UPDATE: it keeps the resets out but not a new code (its foreign key check).
    async with unit_held(db, lambda uow: lock_row(uow, User, user.id, key_share=True)) as holder:
        one = asyncio.create_task(gql(RESET, {"t": first, "p": "password one"}))
        await wait_for_lock_waiters(db, 1, table="users", racers=[one])
        # A code committed now, as a request that ran just before the holder would have left it.
        async with db.sessions() as session, session.begin():
            session.add(
                PasswordResetToken(
                    id=uuid.UUID(int=1),
                    user_id=user.id,
                    token_hash=reset_token_hash("second code"),
                    expires_at=datetime.now(UTC) + timedelta(minutes=30),
                )
            )
        two = asyncio.create_task(gql(RESET, {"t": "second code", "p": "password two"}))
        await wait_for_lock_waiters(db, 2, table="users", racers=[one, two])
    await holder
    assert (await one)["data"]["resetPassword"] == OK
    assert (await two)["data"]["resetPassword"] == REFUSED  # spent with the first
    assert (REGISTRY.get_sample_value(*retries) or 0) == deadlocks_before
    assert await live_codes(db) == set()


async def test_a_bad_code_costs_no_argon2_and_a_good_one_holds_no_connection(gql, db, users, monkeypatch):
    await users.create(email="reset@example.com")
    used, expired, good = [await request_token(gql, db, "reset@example.com") for _ in range(3)]
    calls = []
    real_hash = credentials.hash_password

    async def counting_hash(password):
        calls.append(password)
        assert db.engine.pool.checkedout() == 0  # no connection sits idle in a transaction on argon2
        return await real_hash(password)

    monkeypatch.setattr(credentials, "hash_password", counting_hash)
    async with db.engine.begin() as connection:
        await connection.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.token_hash == reset_token_hash(used))
            .values(used_at=func.now())
        )
        await connection.execute(
            update(PasswordResetToken)
            .where(PasswordResetToken.token_hash == reset_token_hash(expired))
            .values(expires_at=func.now())
        )
    bad = (("no-such-code", "INVALID_TOKEN"), (used, "TOKEN_ALREADY_USED"), (expired, "TOKEN_EXPIRED"))
    for code, refused in bad:
        payload = (await gql(RESET, {"t": code, "p": "brand new password"}))["data"]["resetPassword"]
        assert payload == {"ok": False, "errors": [{"code": refused, "field": "token"}]}
    assert calls == []
    assert (await gql(RESET, {"t": good, "p": "brand new password"}))["data"]["resetPassword"] == OK
    assert calls == ["brand new password"]


async def test_expired_and_unknown_tokens(gql, db, users):
    await users.create(email="reset@example.com")
    token = await request_token(gql, db, "reset@example.com")
    async with db.engine.begin() as connection:
        await connection.execute(
            update(PasswordResetToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = (await gql(RESET, {"t": token, "p": "brand new password"}))["data"]["resetPassword"]
    assert expired == {"ok": False, "errors": [{"code": "TOKEN_EXPIRED", "field": "token"}]}
    unknown = (await gql(RESET, {"t": "no-such-token", "p": "brand new password"}))["data"]["resetPassword"]
    assert unknown == {"ok": False, "errors": [{"code": "INVALID_TOKEN", "field": "token"}]}
    short = (await gql(RESET, {"t": token, "p": "short"}))["data"]["resetPassword"]
    assert short == {"ok": False, "errors": [{"code": "VALIDATION", "field": "newPassword"}]}


async def test_a_new_email_revokes_the_codes_sent_to_the_old_one(gql, db, users):
    """Whoever still reads the old mailbox must not take the account once the owner moved away."""
    update_profile = (
        "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { user { email } errors { code } } }"
    )
    _, token = await users.signed_in(email="old@example.com")
    kept = await request_token(gql, db, "old@example.com")
    renamed = await gql(update_profile, {"i": {"name": "Still Me"}}, token=token)
    assert renamed["data"]["updateProfile"]["errors"] == [] and await live_codes(db) == {kept}

    move = {"email": "new@example.com", "currentPassword": "correct horse battery"}
    moved = await gql(update_profile, {"i": move}, token=token)
    assert moved["data"]["updateProfile"] == {"user": {"email": "new@example.com"}, "errors": []}
    assert await live_codes(db) == set()
    taken = (await gql(RESET, {"t": kept, "p": "someone else's password"}))["data"]["resetPassword"]
    assert taken == REFUSED
    signed_in = await gql(LOGIN, {"e": "new@example.com", "p": "correct horse battery"})
    assert signed_in["data"]["login"]["errors"] == []
    # The new address gets codes that work.
    fresh = await request_token(gql, db, "new@example.com")
    assert (await gql(RESET, {"t": fresh, "p": "brand new password"}))["data"]["resetPassword"] == OK


async def test_a_later_reset_leaves_the_codes_spent_before_as_they_were(gql, db, users):
    """A reset spends only the codes still live: an older one's record (used, or revoked when a
    sibling was used) is history, not rewritten."""
    await users.create(email="reset@example.com")
    first, second = [await request_token(gql, db, "reset@example.com") for _ in range(2)]
    assert (await gql(RESET, {"t": first, "p": "brand new password"}))["data"]["resetPassword"] == OK

    async def states() -> dict:
        async with db.read() as s:
            rows = (
                await s.execute(
                    select(
                        PasswordResetToken.token_hash,
                        PasswordResetToken.used_at,
                        PasswordResetToken.revoked_at,
                    )
                )
            ).all()
        return {code: (used, revoked) for code, used, revoked in rows}

    before = await states()
    third = await request_token(gql, db, "reset@example.com")
    assert (await gql(RESET, {"t": third, "p": "another new password"}))["data"]["resetPassword"] == OK
    after = await states()
    for code in (first, second):
        assert after[reset_token_hash(code)] == before[reset_token_hash(code)]
