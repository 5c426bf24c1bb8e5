"""Password reset: outbox in the same transaction, hashed tokens, single use under a race."""
import asyncio
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from app.domain.accounts.credentials import reset_token_hash
from app.domain.accounts.models import OutboxMessage, PasswordResetToken

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

    results = await asyncio.gather(*[gql(RESET, {"t": token, "p": f"new password {i}"}) for i in range(5)])
    payloads = [r["data"]["resetPassword"] for r in results]
    assert sum(p["ok"] for p in payloads) == 1
    assert sorted(e["code"] for p in payloads for e in p["errors"]) == ["TOKEN_ALREADY_USED"] * 4

    # The bearer token from before the reset no longer works.
    assert (await gql("{ me { id } }", token=old_bearer))["data"]["me"] is None
    denied = await gql('mutation { updateProfile(input: {name: "X"}) { errors { code } } }', token=old_bearer)
    assert denied["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # Exactly one of the new passwords works.
    logins = [(await gql(LOGIN, {"e": "reset@example.com", "p": f"new password {i}"}))["data"]["login"] for i in range(5)]
    assert sum(1 for login in logins if login["token"]) == 1


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
