"""A database that goes silent: a firewall or NAT that drops a connection's packets without a word,
or a server that stops answering. Nothing tells the client that the connection is gone, so each wait
on it must end by itself: a statement still unanswered a database timeout past the statement timeout
(by when the database answers even one it cancelled) fails and its connection is dropped (the API
answers 503 UNAVAILABLE, a unit of work reruns once on a fresh connection), the
server ends the silent client's transaction so its row locks come free, and the LISTEN connection
that live updates and kept users hang on is found out and replaced.

The silence is tests/blackhole.py's proxy. Every wait here is bounded by HANG_GUARD_SECONDS, a guard
and not a measure: without these timeouts a silent connection waits for the kernel to give up on it,
a quarter of an hour."""

import asyncio
import json
import uuid
from decimal import Decimal

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from app.auth import USERS_CHANNEL, authenticate, known_users
from app.db.connectivity import is_unavailable
from app.db.engine import Database
from app.domain.accounts import service as accounts
from app.domain.errors import DomainError
from app.domain.pos import live
from app.domain.pos.live import CHANNEL, RESYNC, OrderFeed
from app.domain.taxes import service as taxes
from app.domain.uow import run_unit
from app.main import create_app
from tests.blackhole import blackhole
from tests.conftest import make_settings
from tests.e2e.test_serve import until
from tests.mail.test_outbox_sender import outbox_rows, write_reset_email
from tests.reliability.test_unavailable import HANG_GUARD_SECONDS, answered, assert_unavailable

# Short, so that each test's waits end well within the guard: a statement is answered within 1.5 s.
TIMEOUTS = {"lock_timeout_ms": 500, "database_timeout_ms": 500}
PRODUCTS = {"query": "{ products(first: 1) { edges { cursor } } }"}


@pytest.fixture
def hole(database_url, db):  # db: the tables are emptied after the test
    with blackhole(database_url) as proxy:
        yield proxy


@pytest.fixture
async def silent_db(hole):
    database = Database(make_settings(hole.url, **TIMEOUTS))
    try:
        yield database
    finally:
        await database.dispose()


async def heard_version(box) -> int:
    """The next version announced, past any resync (a loaded machine may reconnect once more)."""
    while (version := await box.next()) == RESYNC:
        pass
    return version


async def backend_pid(session) -> int:
    return (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def test_a_query_on_a_connection_gone_silent_is_answered_503_unavailable_and_the_next_ones_succeed(
    hole, silent_db
):
    """The first request to meet the silence waits for the answer timeout and is answered 503
    UNAVAILABLE; its connection is dropped, and with it every connection pooled before it (all
    three here, all silent), so the requests after it open fresh ones and succeed."""
    connections = [await silent_db.engine.connect() for _ in range(3)]
    for connection in connections:
        await connection.execute(text("SELECT 1"))
    for connection in connections:
        await connection.close()  # back to the pool, which holds three now
    app = create_app(silent_db.settings, silent_db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://petpos.test"
    ) as http:
        hole.silence()
        assert_unavailable(await answered(http.post("/graphql", json=PRODUCTS)))
        for _ in range(3):
            response = await answered(http.post("/graphql", json=PRODUCTS))
            assert response.status_code == 200 and "errors" not in response.json(), response.text


async def test_a_unit_whose_connection_goes_silent_before_commit_runs_once_more_on_a_fresh_one(
    hole, silent_db, db
):
    """The first run's INSERT reaches the server, then the connection goes silent: its next
    statement is never answered. The unit reruns on a fresh connection. The first run's transaction,
    abandoned on the server, never commits: the rate is there once (a second would break its
    unique name)."""
    name = f"Silent {uuid.uuid4().hex[:8]}"
    backends: list[int] = []

    async def work(uow):
        backends.append(await backend_pid(uow.session))
        await taxes.create_tax_rate(uow, taxes.prepare_tax_rate(name=name, rate=Decimal("7.5")))
        if len(backends) == 1:
            hole.silence()
        return await backend_pid(uow.session)

    ran_on = await asyncio.wait_for(
        run_unit(silent_db.sessions, work, lock_timeout_ms=500), HANG_GUARD_SECONDS
    )
    assert len(backends) == 2 and ran_on == backends[1] != backends[0]
    async with db.read() as session:
        found = await session.execute(text("SELECT count(*) FROM tax_rates WHERE name = :n"), {"n": name})
        assert found.scalar_one() == 1


async def test_the_row_locks_of_a_client_gone_silent_come_free(hole, silent_db, db):
    """A transaction locks a row, and then its client falls silent (its COMMIT or ROLLBACK never
    arrives). The server ends that transaction once it has been idle for the statement timeout,
    so a counter waiting on the row gets it, rather than wait until the server's TCP gives up on the
    client."""
    rate = await run_unit(
        db.sessions,
        lambda uow: taxes.create_tax_rate(uow, taxes.prepare_tax_rate(name="Locked", rate=Decimal(5))),
        lock_timeout_ms=500,
    )
    holder = await silent_db.engine.connect()
    try:
        await holder.execute(text("SELECT id FROM tax_rates WHERE id = :id FOR UPDATE"), {"id": rate.id})
        hole.silence()

        async def lock_it() -> None:
            async with db.sessions() as session, session.begin():
                await session.execute(text("SET LOCAL lock_timeout = '1h'"))
                await session.execute(
                    text("SELECT id FROM tax_rates WHERE id = :id FOR UPDATE"), {"id": rate.id}
                )

        await asyncio.wait_for(lock_it(), HANG_GUARD_SECONDS)
    finally:
        await holder.invalidate()  # what the silent connection can still do; its ROLLBACK would wait


async def test_a_listen_connection_gone_silent_is_replaced_and_its_subscribers_read_again(hole, db):
    """Nothing comes on a LISTEN connection that a firewall dropped, and nothing says so: the
    heartbeat's round trip goes unanswered, the connection is replaced, and every subscriber is told
    to read its order again (it may have missed changes); changes are heard again from then on."""
    feed = OrderFeed(hole.url, answer_timeout=0.5, heartbeat=0.2, reconnect_delay=0.05)
    await feed.start()
    try:
        order_id = uuid.uuid4()
        box = feed.subscribe(order_id)
        hole.silence()
        assert await asyncio.wait_for(box.next(), HANG_GUARD_SECONDS) == RESYNC
        async with db.engine.connect() as connection:
            announcement = json.dumps({"id": str(order_id), "version": 7})
            await connection.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": announcement})
            await connection.commit()
        assert await asyncio.wait_for(heard_version(box), HANG_GUARD_SECONDS) == 7
    finally:
        await feed.stop()


async def test_a_token_revoked_while_the_listen_connection_is_silent_is_refused(hole, db, users):
    """The process keeps the user while its LISTEN connection hears every change to users; before it
    uses what it kept it makes a round trip on that connection. Here the connection has gone silent
    and a sign-out everywhere is committed: the round trip goes unanswered, so the request reads the
    user afresh (and refuses the token) instead of waiting on the silence, or trusting it."""
    known = known_users(db)
    feed = OrderFeed(hole.url, answer_timeout=0.5)  # its heartbeat (30 s) plays no part here
    feed.also_listen(USERS_CHANNEL, known.changed, known.listening)
    known.caught_up = feed.caught_up
    await feed.start()
    try:
        user, token = await users.signed_in()
        assert (await authenticate(db, token))[1] is None  # read, and kept
        hole.silence()
        await run_unit(
            db.sessions, lambda uow: accounts.sign_out_everywhere(uow, user_id=user.id), lock_timeout_ms=3000
        )
        refused = await asyncio.wait_for(authenticate(db, token), HANG_GUARD_SECONDS)
        assert refused == (None, "token no longer valid")
    finally:
        await feed.stop()
        known.listening(False)


async def test_a_server_whose_database_went_silent_shuts_down_without_waiting_on_each_connection(
    hole, database_url
):
    """Five pooled connections go silent; one request finds it out (503 after the answer timeout,
    3.1 s here). Shutting down then drops the other four at once, where a polite close would wait
    the answer timeout on each in turn (12.4 s more, past the guard), and drops the LISTEN
    connections that do not answer a close within the database timeout (1.5 s each)."""
    silent = Database(make_settings(hole.url, lock_timeout_ms=100, database_timeout_ms=1500))
    app = create_app(silent.settings, silent)
    connections = [await silent.engine.connect() for _ in range(5)]
    for connection in connections:
        await connection.execute(text("SELECT 1"))
    for connection in connections:
        await connection.close()

    async def serve_then_shut_down() -> None:
        async with app.router.lifespan_context(app):
            hole.silence()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://petpos.test") as http:
                assert_unavailable(await http.post("/graphql", json=PRODUCTS))

    try:
        await asyncio.wait_for(serve_then_shut_down(), 12)
    finally:
        await silent.dispose()


async def test_a_statement_past_the_statement_timeout_answers_busy_and_keeps_its_connection(database_url, db):
    """The database cancels a statement at its statement_timeout (lock + database timeout, 0.6 s
    here): a mutation's unit answers BUSY (a statement that waited on several locks in turn ends so
    too), and the connection, which answered, stays in use: it is not taken for silent."""
    timed = Database(make_settings(database_url, lock_timeout_ms=300, database_timeout_ms=300))
    try:

        async def slow(uow) -> int:
            backends.append(await backend_pid(uow.session))
            await uow.session.execute(text("SELECT pg_sleep(1)"))
            return backends[-1]

        backends: list[int] = []
        timeouts = ("petpos_statement_timeouts_total", {"operation": "slowOne"})
        before = REGISTRY.get_sample_value(*timeouts) or 0
        with pytest.raises(DomainError) as busy:
            await run_unit(timed.sessions, slow, lock_timeout_ms=300, operation="slowOne")
        assert busy.value.code == "BUSY" and len(backends) == 1
        assert REGISTRY.get_sample_value(*timeouts) == before + 1  # README: /metrics counts timeouts
        async with timed.sessions() as session:
            assert await backend_pid(session) == backends[0]
        with pytest.raises(Exception) as cancelled:  # a read: the API answers it 503 UNAVAILABLE
            async with timed.read() as session:
                await session.execute(text("SELECT pg_sleep(1)"))
        assert is_unavailable(cancelled.value)
    finally:
        await timed.dispose()


async def test_a_replica_read_past_the_statement_timeout_is_cancelled_by_the_database(database_url, db):
    """Queries on DATABASE_READ_URL have the primary's statement timeouts too: the replica cancels a
    read at lock + database timeout (0.6 s here), before the server would take its connection for
    silent (0.9 s) and drop it."""
    timed = Database(
        make_settings(
            database_url, database_read_url=database_url, lock_timeout_ms=300, database_timeout_ms=300
        )
    )
    try:
        assert timed.read_engine is not timed.engine
        async with timed.read() as session:
            limits = await session.execute(
                text(
                    "SELECT current_setting('statement_timeout'), "
                    "current_setting('idle_in_transaction_session_timeout')"
                )
            )
            assert limits.one() == ("600ms", "600ms")
        with pytest.raises(Exception) as cancelled:
            async with timed.read() as session:
                await session.execute(text("SELECT pg_sleep(1)"))
        assert getattr(cancelled.value.orig, "sqlstate", None) == "57014"  # query_canceled, by the replica
    finally:
        await timed.dispose()


async def test_new_mail_wakes_the_sender_after_the_listen_connection_went_silent(
    hole, db, users, settings, monkeypatch
):
    """The server's one LISTEN connection also hears new mail. Gone silent, it is replaced (its
    heartbeat, shortened here), and mail written after that is sent at once, though the sender's
    poll is an hour away."""
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.2)
    await users.create(email="reset@example.com")
    app_settings = make_settings(
        settings.database_url, database_listen_url=hole.url, outbox_poll_seconds=3600, database_timeout_ms=500
    )
    served = Database(app_settings)
    app = create_app(app_settings, served)

    async def mail_sent(n: int) -> None:
        await write_reset_email(db, "reset@example.com")

        async def sent() -> bool:
            rows = await outbox_rows(db)
            return len(rows) == n and all(row.sent_at is not None for row in rows)

        await until(sent, timeout=HANG_GUARD_SECONDS)

    try:
        async with app.router.lifespan_context(app):
            await mail_sent(1)  # heard: the sender is listening
            hole.silence()
            await mail_sent(2)
    finally:
        await served.dispose()
