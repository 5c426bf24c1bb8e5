"""Each process keeps the users it authenticated (app/auth.py) while its LISTEN connection hears
every change to users (the users trigger's NOTIFY): a known token costs no read of the user, and a
change committed by any other process before a request began is seen by that request (the LISTEN
connection catches up first)."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from app.auth import USERS_CHANNEL, KnownUsers, authenticate, known_users
from app.db.engine import Database
from app.domain.accounts import service as accounts
from app.domain.pos.live import OrderFeed
from app.domain.uow import run_unit
from tests.conftest import make_settings
from tests.sql_recorder import record_sql


@asynccontextmanager
async def listener(db: Database, hear: Callable[[str], None]) -> AsyncIterator[tuple[OrderFeed, KnownUsers]]:
    """The process's LISTEN connection, as the app's lifespan starts it; `hear` gets the users
    channel's payloads."""
    known = known_users(db)
    feed = OrderFeed(db.engine.url.render_as_string(hide_password=False))
    feed.also_listen(USERS_CHANNEL, hear, known.listening)
    known.caught_up = feed.caught_up
    await feed.start()
    try:
        yield feed, known
    finally:
        await feed.stop()
        known.listening(False)


@pytest.fixture
async def listening(db):
    """The process's LISTEN connection, each notification handed over as it comes."""
    known = known_users(db)
    async with listener(db, known.changed) as heard:
        yield heard


class HeldBack:
    """The users channel's notifications as late as PostgreSQL lets them come: a listener is sure
    to have every notification committed before a statement it sends by the time that statement is
    answered, and of no sooner. So each is held back here until the process catches up (the
    round trip on the LISTEN connection) and handed over only once that is answered. A process
    that used what it kept without catching up would never hear of a change in time."""

    def __init__(self, known: KnownUsers) -> None:
        self.known, self.held = known, list[str]()
        self.barrier: Callable[[], Awaitable[bool]] | None = None  # the feed's own caught_up

    def hear(self, raw: str) -> None:
        self.held.append(raw)

    async def caught_up(self) -> bool:
        assert self.barrier is not None
        heard = await self.barrier()
        held, self.held = self.held, []
        for raw in held:
            self.known.changed(raw)
        return heard


@pytest.fixture
async def late_notifications(db):
    """The process's LISTEN connection, each notification held back as long as it may be."""
    held = HeldBack(known_users(db))
    async with listener(db, held.hear) as (feed, known):
        held.barrier, known.caught_up = feed.caught_up, held.caught_up
        yield feed, known


@pytest.fixture
async def other_process(database_url):
    """Another server process: its own engine and pool."""
    other = Database(make_settings(database_url))
    try:
        yield other
    finally:
        await other.dispose()


async def heard(known: KnownUsers, since: int) -> None:
    """Until a notification has reached this process (fails after a few seconds)."""

    async def poll() -> None:
        while known.generation == since:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), 5)


async def test_a_known_user_is_authenticated_without_a_database_read(db, users, listening):
    user, token = await users.signed_in()
    assert (await authenticate(db, token))[0].id == user.id
    with record_sql(db.engine) as sql:
        again, problem = await authenticate(db, token)
    assert (again.id, problem) == (user.id, None)
    assert sql.count() == 0


async def test_a_sign_out_everywhere_in_another_process_refuses_the_token_here_at_once(
    db, users, late_notifications, other_process
):
    user, token = await users.signed_in()
    assert (await authenticate(db, token))[1] is None  # now kept here
    await run_unit(
        other_process.sessions,
        lambda uow: accounts.sign_out_everywhere(uow, user_id=user.id),
        lock_timeout_ms=3000,
    )
    # No waiting for the notification: the request itself catches up with it.
    assert await authenticate(db, token) == (None, "token no longer valid")


async def test_a_change_committed_before_a_request_is_seen_by_it_however_late_its_notification(
    db, users, late_notifications
):
    """Revoke and, the moment the COMMIT returns, authenticate: the notification is held back until
    the request catches up, so a process that used what it kept without catching up would let the
    revoked token through, every round."""
    user, token = await users.signed_in()
    assert (await authenticate(db, token))[1] is None  # read, and kept here
    async with db.engine.connect() as connection:
        for version in range(user.token_version + 1, user.token_version + 4):
            with record_sql(db.engine) as sql:
                assert (await authenticate(db, token))[1] is None
            assert sql.count() == 0  # the kept user, not read again
            await connection.execute(
                text("UPDATE users SET token_version = :v WHERE id = :id"), {"v": version, "id": user.id}
            )
            await connection.commit()
            assert await authenticate(db, token) == (None, "token no longer valid")
            user.token_version = version
            token = users.token(user)


async def test_any_change_to_the_row_is_heard_also_one_made_outside_petpos(db, users, listening):
    _, known = listening
    user, token = await users.signed_in()
    assert (await authenticate(db, token))[0].role == "CUSTOMER"
    since = known.generation
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE users SET role = 'STAFF' WHERE id = :id"), {"id": user.id})
    await heard(known, since)
    assert (await authenticate(db, token))[0].role == "STAFF"


async def test_nothing_is_kept_while_the_listen_connection_is_down(db, users, listening):
    feed, known = listening
    user, token = await users.signed_in()
    await authenticate(db, token)
    since = known.generation
    async with db.engine.begin() as connection:
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN%'"
            )
        )
    await heard(known, since)
    # Down, or already back: either way what was kept before is gone, and a change made meanwhile
    # (whose notification nobody heard) counts.
    async with db.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET token_version = token_version + 1 WHERE id = :id"), {"id": user.id}
        )
    assert await authenticate(db, token) == (None, "token no longer valid")


async def test_a_read_overtaken_by_a_notification_is_not_kept(users):
    known = KnownUsers()
    known.listening(True)

    async def heard_all() -> bool:
        return True

    known.caught_up = heard_all

    class Someone:
        id = __import__("uuid").uuid4()

    read_under = known.generation
    known.changed(str(Someone.id))  # the change lands between the read and keeping it
    known.keep(Someone, read_under)  # type: ignore[arg-type]
    assert await known.get(Someone.id) is None
    known.keep(Someone, known.generation)  # type: ignore[arg-type]
    assert await known.get(Someone.id) is Someone
    known.listening(False)
    assert await known.get(Someone.id) is None


async def test_a_token_newer_than_the_kept_user_reads_the_user_afresh(db, users, listening):
    """Signed out everywhere and in again elsewhere before this process heard of it: the new token
    carries a version above the one kept, so the user is read again rather than the token refused."""
    _, known = listening
    user, token = await users.signed_in()
    kept, _ = await authenticate(db, token)
    since = known.generation
    async with db.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET token_version = token_version + 1 WHERE id = :id"), {"id": user.id}
        )
    await heard(known, since)
    known.keep(kept, known.generation)  # as if the notification were still on its way
    user.token_version += 1
    assert (await authenticate(db, users.token(user)))[1] is None
