"""Password reset: outbox in the same transaction, hashed tokens, single use under a race."""
import asyncio
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from app.db.locks import lock_row
from app.db.uow import run_unit
from app.domain.accounts import service as accounts
from app.domain.accounts.credentials import reset_token_hash
from app.domain.accounts.models import OutboxMessage, PasswordResetToken
from tests.races import wait_for_lock_waiters

REQUEST = 'mutation($e: String!) { requestPasswordReset(email: $e) { ok errors { code } } }'
RESET = 'mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) { ok errors { code field } } }'
LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token errors { code } } }'


async def request_token(gql, db, email: str) -> str:
    assert (await gql(REQUEST, {"e": email}))["data"]["requestPasswordReset"] == {"ok": True, "errors": []}
    async with db.read() as session:
        body = (await session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.created_at.desc()))).first()
    return re.search(r"new password: (\S+)", body).group(1)


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


async def test_a_new_request_revokes_older_unused_tokens(gql, db, users):
    await users.create(email="reset@example.com")
    old = await request_token(gql, db, "reset@example.com")
    new = await request_token(gql, db, "reset@example.com")
    assert (await gql(RESET, {"t": old, "p": "brand new password"}))["data"]["resetPassword"]["errors"][0]["code"] == "INVALID_TOKEN"
    assert (await gql(RESET, {"t": new, "p": "brand new password"}))["data"]["resetPassword"]["ok"] is True


async def test_double_submitted_reset_applies_once_and_signs_out_old_tokens(gql, db, users):
    user, old_bearer = await users.signed_in(email="reset@example.com", password="old password 1")
    assert (await gql("{ me { id } }", token=old_bearer))["data"]["me"]["id"] == str(user.id)
    token = await request_token(gql, db, "reset@example.com")
    async with db.read() as session:
        token_id = (await session.scalars(select(PasswordResetToken.id))).one()
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold_token_row(uow):
        await lock_row(uow, PasswordResetToken, token_id)
        holding.set()
        await release.wait()

    holder = asyncio.create_task(run_unit(db.sessions, hold_token_row, lock_timeout_ms=30_000))
    await holding.wait()
    submits = [asyncio.create_task(gql(RESET, {"t": token, "p": f"new password {i}"})) for i in range(5)]
    await wait_for_lock_waiters(db, 5)  # every submit has read the token as unused and waits for its row
    release.set()
    await holder
    payloads = [r["data"]["resetPassword"] for r in await asyncio.gather(*submits)]
    assert sum(p["ok"] for p in payloads) == 1
    assert sorted(e["code"] for p in payloads for e in p["errors"]) == ["TOKEN_ALREADY_USED"] * 4

    # The bearer token from before the reset no longer works.
    assert (await gql("{ me { id } }", token=old_bearer))["data"]["me"] is None
    denied = await gql('mutation { updateProfile(input: {name: "X"}) { errors { code } } }', token=old_bearer)
    assert denied["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # Exactly one of the new passwords works.
    logins = [(await gql(LOGIN, {"e": "reset@example.com", "p": f"new password {i}"}))["data"]["login"] for i in range(5)]
    assert sum(1 for login in logins if login["token"]) == 1


async def unused_codes_newest_first(db) -> list[str]:
    """The codes in the outbox whose token is neither used nor revoked, newest first."""
    async with db.read() as session:
        bodies = (await session.scalars(select(OutboxMessage.body))).all()
        rows = (await session.scalars(select(PasswordResetToken).order_by(
            PasswordResetToken.created_at.desc(), PasswordResetToken.id.desc()))).all()
    codes = {reset_token_hash(code): code for code in (re.search(r"new password: (\S+)", b).group(1) for b in bodies)}
    return [codes[row.token_hash] for row in rows if row.used_at is None and row.revoked_at is None]


def overlapping_request(both_written: asyncio.Barrier, email: str, release: asyncio.Event | None = None):
    async def work(uow):
        await accounts.request_password_reset(uow, email=email, ttl_minutes=30)
        await both_written.wait()  # neither has committed, so neither revoke saw the other's code
        if release is not None:
            await release.wait()
    return work


async def test_of_two_racing_requests_only_the_newest_code_resets_the_password(gql, db, users):
    await users.create(email="race@example.com")
    both_written = asyncio.Barrier(2)
    await asyncio.gather(*(run_unit(db.sessions, overlapping_request(both_written, "race@example.com"),
                                    lock_timeout_ms=5000) for _ in range(2)))
    newest, older = await unused_codes_newest_first(db)  # the race left two live codes

    def reset(code, password):
        return gql(RESET, {"t": code, "p": password})

    refused = {"ok": False, "errors": [{"code": "INVALID_TOKEN", "field": "token"}]}
    assert (await reset(older, "older code password"))["data"]["resetPassword"] == refused
    assert (await reset(newest, "newest code password"))["data"]["resetPassword"] == {"ok": True, "errors": []}
    # After the reset no other code works.
    assert (await reset(older, "older code password"))["data"]["resetPassword"] == refused
    assert (await gql(LOGIN, {"e": "race@example.com", "p": "newest code password"}))["data"]["login"]["token"]
    assert (await gql(LOGIN, {"e": "race@example.com", "p": "older code password"}))["data"]["login"]["token"] is None


async def test_a_reset_racing_a_request_waits_for_its_code_and_still_only_one_code_works(gql, db, users):
    await users.create(email="race@example.com")
    both_written, release = asyncio.Barrier(2), asyncio.Event()
    late = asyncio.create_task(run_unit(
        db.sessions, overlapping_request(both_written, "race@example.com", release), lock_timeout_ms=5000))
    await run_unit(db.sessions, overlapping_request(both_written, "race@example.com"), lock_timeout_ms=5000)
    [first_code] = await unused_codes_newest_first(db)  # the other code is written, not yet committed
    first_reset = asyncio.create_task(gql(RESET, {"t": first_code, "p": "first code password"}))
    await wait_for_lock_waiters(db, 1)  # the reset waits on the user row until the late code is in
    release.set()
    await late
    late_code = (set(await unused_codes_newest_first(db)) - {first_code}).pop()
    late_reset = await gql(RESET, {"t": late_code, "p": "late code password"})
    outcomes = [r["data"]["resetPassword"]["ok"] for r in (await first_reset, late_reset)]
    assert sorted(outcomes) == [False, True]


async def test_expired_and_unknown_tokens(gql, db, users):
    await users.create(email="reset@example.com")
    token = await request_token(gql, db, "reset@example.com")
    async with db.engine.begin() as connection:
        await connection.execute(update(PasswordResetToken).values(
            expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
    expired = (await gql(RESET, {"t": token, "p": "brand new password"}))["data"]["resetPassword"]
    assert expired == {"ok": False, "errors": [{"code": "TOKEN_EXPIRED", "field": "token"}]}
    unknown = (await gql(RESET, {"t": "no-such-token", "p": "brand new password"}))["data"]["resetPassword"]
    assert unknown == {"ok": False, "errors": [{"code": "INVALID_TOKEN", "field": "token"}]}
    short = (await gql(RESET, {"t": token, "p": "short"}))["data"]["resetPassword"]
    assert short == {"ok": False, "errors": [{"code": "VALIDATION", "field": "newPassword"}]}
