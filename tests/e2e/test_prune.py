"""`petpos prune` deletes the rows that have done their work, and only those."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.domain.accounts.models import OutboxMessage, PasswordResetToken, SignInFailure
from app.domain.sales.models import IdempotencyKey
from app.prune import prune
from tests.e2e.test_cli import petpos
from tests.races import unit_held

NOW = datetime.now(UTC)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


async def add_rows(db, users) -> None:
    """Rows named by their fate: `gone` ones have done their work, `kept` ones have not."""
    user = await users.create()

    def code(name: str, made: datetime, **fields) -> PasswordResetToken:
        fields.setdefault("expires_at", made + timedelta(minutes=30))
        return PasswordResetToken(user_id=user.id, token_hash=name.ljust(64, "0"), created_at=made, **fields)

    def mail(name: str, made: datetime, **fields) -> OutboxMessage:
        return OutboxMessage(recipient="a@example.com", subject=name, body="…", created_at=made, **fields)

    def key(name: str, made: datetime) -> IdempotencyKey:
        return IdempotencyKey(
            user_id=user.id,
            operation="checkout",
            key=name,
            fingerprint="f",
            result_id=uuid.uuid4(),
            created_at=made,
        )

    rows = [
        SignInFailure(kind="account", key="gone", failures=3, window_started_at=ago(minutes=61)),
        SignInFailure(kind="address", key="kept", failures=3, window_started_at=ago(minutes=1)),
        # Past the sign-in window (15 minutes), not past the registration window (60).
        SignInFailure(kind="register", key="kept-in-window", failures=3, window_started_at=ago(minutes=30)),
        code("gone-expired", ago(days=40)),
        code("gone-used", ago(days=40), used_at=ago(days=40), expires_at=NOW + timedelta(days=1)),
        code("gone-revoked", ago(days=40), revoked_at=ago(days=39), expires_at=NOW + timedelta(days=1)),
        code("kept-unspent", ago(days=40), expires_at=NOW + timedelta(days=1)),
        code("kept-recent", ago(days=2)),
        mail("gone-sent", ago(days=40), sent_at=ago(days=40)),
        mail("gone-given-up", ago(days=40), failed_at=ago(days=35)),
        mail("kept-pending", ago(days=40)),
        mail("kept-sent-lately", ago(days=40), sent_at=ago(days=2)),
        key("gone", ago(days=31)),
        key("kept", ago(days=29)),
    ]
    async with db.sessions() as session, session.begin():
        session.add_all(rows)


async def names(db) -> dict[str, list[str]]:
    async with db.read() as session:
        found = {
            "counters": await session.scalars(select(SignInFailure.key)),
            "codes": await session.scalars(select(PasswordResetToken.token_hash)),
            "mail": await session.scalars(select(OutboxMessage.subject)),
            "keys": await session.scalars(select(IdempotencyKey.key)),
        }
        return {kind: sorted(name.rstrip("0") for name in rows) for kind, rows in found.items()}


KEPT = {
    "counters": ["kept", "kept-in-window"],
    "codes": ["kept-recent", "kept-unspent"],
    "mail": ["kept-pending", "kept-sent-lately"],
    "keys": ["kept"],
}


async def test_petpos_prune_deletes_what_has_done_its_work_and_says_how_much(database_url, db, users):
    await add_rows(db, users)
    result = petpos(database_url, "prune")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "sign_in_failures: 1 deleted",
        "password_reset_tokens: 3 deleted",
        "outbox_messages: 2 deleted",
        "idempotency_keys: 1 deleted",
    ]
    assert await names(db) == KEPT
    again = petpos(database_url, "prune")
    assert again.returncode == 0
    assert [line.split(": ")[1] for line in again.stdout.splitlines()] == ["0 deleted"] * 4


async def test_days_sets_how_long_mail_codes_and_keys_are_kept(database_url, db, users):
    await add_rows(db, users)
    assert petpos(database_url, "prune", "--days", "1").returncode == 0
    left = await names(db)
    assert left["mail"] == ["kept-pending"] and left["keys"] == [] and left["codes"] == ["kept-unspent"]
    for bad in ("0", "3651", "x"):
        refused = petpos(database_url, "prune", "--days", bad)
        assert refused.returncode == 2 and "--days" in refused.stderr


async def test_batches_go_until_the_table_is_done_and_skip_rows_held_elsewhere(
    database_url, db, users, settings
):
    await add_rows(db, users)
    async with db.sessions() as session, session.begin():
        for n in range(6):
            counter = SignInFailure(kind="address", key=f"gone-{n}", failures=1)
            session.add(counter)
            counter.window_started_at = ago(hours=2)
    stale = select(SignInFailure).where(SignInFailure.key == "gone").with_for_update()

    async def hold(uow):
        uow.note_lock("sign_in_failures")
        await uow.session.execute(stale)

    async with unit_held(db, hold):  # a sign-in holds this one right now: left for the next run
        pruned = await prune(settings, database_url, days=30, batch=2)
    assert [(p.table, p.rows) for p in pruned] == [
        ("sign_in_failures", 6),
        ("password_reset_tokens", 3),
        ("outbox_messages", 2),
        ("idempotency_keys", 1),
    ]
    assert (await names(db))["counters"] == ["gone", *KEPT["counters"]]


async def test_codes_the_reset_email_window_still_counts_are_kept_whatever_the_days(
    database_url, db, users, settings, monkeypatch
):
    """Each code made in the window counts against the account's reset emails: deleting one early
    would let more emails go out than the limit."""
    monkeypatch.setattr(settings, "password_reset_window_minutes", 3 * 24 * 60)
    await add_rows(db, users)
    user = await users.create()
    async with db.sessions() as session, session.begin():
        for name, days in (("kept-counted", 2), ("gone-past-the-window", 4)):
            made = ago(days=days)
            expired = PasswordResetToken(user_id=user.id, token_hash=name.ljust(64, "0"), expires_at=made)
            expired.created_at = made
            session.add(expired)
    await prune(settings, database_url, days=1)
    assert (await names(db))["codes"] == ["kept-counted", "kept-recent", "kept-unspent"]
