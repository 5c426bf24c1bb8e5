"""The database unreachable or connections lost: a unit of work reruns only when nothing of it can
have been written, the API answers 503 UNAVAILABLE (also while the bearer token is checked), and a
pooled connection the server closed never fails a request."""

import asyncio
import socket
from collections.abc import Awaitable

import asyncpg
import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import event, text

from app.db.connectivity import DatabaseUnavailable, is_unavailable
from app.db.engine import Database
from app.domain.catalog.models import Product
from app.domain.locks import lock_row
from app.domain.uow import run_unit
from app.main import create_app
from tests.conftest import make_settings
from tests.races import row_lock_held, wait_for_lock_waiters
from tests.taxes.helpers import taxed_product

# A socket directory with no server in it: connecting fails at once, as while PostgreSQL is down.
NOWHERE = "postgresql://postgres@/postgres?host=/nonexistent-petpos-socket-dir"


async def terminate(db: Database, pid: int) -> None:
    """End the backend `pid` from another connection, and wait until it is gone."""
    async with db.engine.connect() as other:
        await other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})


async def test_a_unit_whose_connection_dies_before_commit_runs_once_more_on_a_fresh_one(db):
    backends: list[int] = []

    async def work(uow):
        pid = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        backends.append(pid)
        if len(backends) == 1:
            await terminate(db, pid)
        return (await uow.session.execute(text("SELECT 42"))).scalar_one()

    assert await run_unit(db.sessions, work, lock_timeout_ms=3000) == 42
    assert len(backends) == 2 and backends[0] != backends[1]


async def test_a_unit_rerun_once_is_not_rerun_again(db):
    runs = 0

    async def work(uow):
        nonlocal runs
        runs += 1
        await terminate(db, (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        await uow.session.execute(text("SELECT 1"))

    with pytest.raises(DatabaseUnavailable):
        await run_unit(db.sessions, work, lock_timeout_ms=3000)
    assert runs == 2


async def test_a_unit_whose_commit_outcome_is_unknown_is_never_rerun(db):
    runs = 0

    async def work(uow):
        nonlocal runs
        runs += 1
        # The connection dies once the work is done: COMMIT goes to a connection that is gone.
        await terminate(db, (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one())

    with pytest.raises(DatabaseUnavailable):
        await run_unit(db.sessions, work, lock_timeout_ms=3000)
    assert runs == 1


async def test_a_unit_that_gets_no_connection_is_not_rerun():
    """A failed connect was taken for a connection lost before COMMIT and tried once more: a mutation
    on a database that does not answer waited out the connect timeout twice (10 s, not 5 s)."""
    database = Database(make_settings(NOWHERE))
    attempts = 0

    @event.listens_for(database.engine.sync_engine, "do_connect")
    def count(*_):
        nonlocal attempts
        attempts += 1

    async def work(uow):
        raise AssertionError("no connection, no work")

    try:
        with pytest.raises(DatabaseUnavailable):
            await run_unit(database.sessions, work, lock_timeout_ms=3000)
    finally:
        await database.dispose()
    assert attempts == 1


async def test_a_pooled_connection_the_server_closed_never_fails_the_next_request(db, gql):
    assert (await gql("{ products(first: 1) { edges { node { id } } } }")).get("errors") is None
    async with db.engine.connect() as other:
        await other.execute(
            text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND datname = current_database() "
                "AND backend_type = 'client backend'"
            )
        )
    for _ in range(5):  # every connection in the pool is dead now
        assert (await gql("{ products(first: 1) { edges { node { id } } } }")).get("errors") is None


# Bounds every request here, so one that hangs fails its test with TimeoutError instead of hanging
# it. A guard, not a measure: no test asserts how long an answer took. It is well below asyncpg's own
# connect timeout (60 s) and SQLAlchemy's pool timeout (30 s), so an answer that had to wait for either
# of those fails as a timeout.
HANG_GUARD_SECONDS = 10
# petpos's connect timeout in the `nowhere` tests: longer than the guard by far, so a 503 there cannot
# come from a connect timeout, only from the failed connection attempt itself.
AN_HOUR = 3600


async def answered(request: Awaitable[httpx.Response]) -> httpx.Response:
    return await asyncio.wait_for(request, HANG_GUARD_SECONDS)


@pytest.fixture
async def nowhere(db, monkeypatch):
    """The API on a database that is down (no server at its socket), with every timeout of petpos
    on the way to it (connecting, CONNECT_TIMEOUT_SECONDS) set to an hour; the pool cannot run out
    with one request at a time. So a 503 within HANG_GUARD_SECONDS says that the request was
    answered at once, as soon as connecting failed, not after some timeout."""
    from app.db import connectivity

    monkeypatch.setattr(connectivity, "CONNECT_TIMEOUT_SECONDS", AN_HOUR)
    settings = make_settings(NOWHERE)
    database = Database(settings)
    app = create_app(settings, database)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://petpos.test"
    ) as http:
        yield http
    await database.dispose()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAVAILABLE"]


async def test_a_query_while_the_database_is_down_is_answered_503_unavailable_at_once(nowhere):
    response = await answered(
        nowhere.post("/graphql", json={"query": "{ products(first: 1) { edges { cursor } } }"})
    )
    assert_unavailable(response)
    assert response.json()["data"] is None


async def test_a_mutation_while_the_database_is_down_is_answered_503_unavailable(nowhere, users):
    _, token = await users.signed_in("STAFF")  # the token's signature is checked without the database
    response = await answered(
        nowhere.post(
            "/graphql",
            json={"query": "mutation { createSaleOrder(input: {}) { errors { code } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    assert_unavailable(response)


async def test_checking_a_bearer_token_while_the_database_is_down_is_answered_503_unavailable(nowhere, users):
    """And counted under UNAVAILABLE, as an alert on it expects, though no operation ran."""
    _, token = await users.signed_in()
    unavailable = ("petpos_graphql_errors_total", {"operation": "refused", "code": "UNAVAILABLE"})
    before = REGISTRY.get_sample_value(*unavailable) or 0
    response = await answered(
        nowhere.post(
            "/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {token}"}
        )
    )
    assert_unavailable(response)
    assert REGISTRY.get_sample_value(*unavailable) == before + 1


async def test_readyz_is_503_while_the_database_is_down(nowhere):
    assert (await answered(nowhere.get("/readyz"))).status_code == 503


async def test_a_request_that_finds_every_connection_taken_is_answered_503_once_a_statement_could_have_run(
    database_url,
):
    """Requests waiting on a row held elsewhere hold every connection of the process: the others
    waited SQLAlchemy's 30 s for one (past HANG_GUARD_SECONDS); now as long as a statement may run."""
    settings = make_settings(database_url, pool_size=1, lock_timeout_ms=300, database_timeout_ms=300)
    database = Database(settings)  # a 5 s wait for a connection, the least there is
    app = create_app(settings, database)
    try:
        # The pool's one connection and its one overflow, checked out (idle, in no transaction).
        async with database.engine.connect(), database.engine.connect():
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://petpos.test"
            ) as http:
                query = {"query": "{ products(first: 1) { edges { cursor } } }"}
                assert_unavailable(await answered(http.post("/graphql", json=query)))
            # A unit of work says so too (it let SQLAlchemy's TimeoutError through, which the POS
            # adds' coalescer took for a failure of the batch and ran each add again).
            with pytest.raises(DatabaseUnavailable):
                await answered(
                    run_unit(
                        database.sessions,
                        lambda uow: uow.session.scalar(text("SELECT 1")),
                        lock_timeout_ms=300,
                    )
                )
    finally:
        await database.dispose()


async def test_units_waiting_on_a_row_held_elsewhere_leave_connections_to_queries(database_url, db):
    """Units of work waiting on a row lock each held a connection: enough of them took every one
    of the process, and queries beside them waited for the pool, then got 503. Units now take at
    most PETPOS_POOL_SIZE at once; the overflow stays the queries'."""
    database = Database(make_settings(database_url, pool_size=1))  # one unit at once, two connections
    product = await taxed_product(db, "HOT", "1.00")

    async def locked(uow):
        await lock_row(uow, Product, product.id)
        return "done"

    def unit() -> asyncio.Task:
        return asyncio.create_task(
            run_unit(database.sessions, locked, lock_timeout_ms=5000, slots=database.unit_slots)
        )

    try:
        async with row_lock_held(db, Product, product.id):
            first = unit()
            await wait_for_lock_waiters(db, 1, table="products", racers=[first])
            second = unit()

            async def waits_for_a_slot() -> None:  # the second, for the first's slot
                while database.unit_slots.waiting < 1:
                    await asyncio.sleep(0.01)

            await answered(waits_for_a_slot())
            async with database.read() as session:  # the pool's other connection is free
                assert await answered(session.scalar(text("SELECT 1"))) == 1
        assert await asyncio.gather(first, second) == ["done", "done"]
    finally:
        await database.dispose()


def test_what_counts_as_the_database_being_unreachable():
    assert is_unavailable(FileNotFoundError(2, "No such file or directory"))
    assert is_unavailable(ConnectionRefusedError(111, "Connection refused"))
    assert is_unavailable(asyncpg.TooManyConnectionsError("sorry, too many clients already"))
    assert not is_unavailable(ValueError("not a connection problem"))
    assert not is_unavailable(OSError("no errno: not from a socket"))


async def test_a_database_server_that_never_answers_is_answered_503_unavailable_after_the_connect_timeout(
    monkeypatch,
):
    """Connecting to a server that accepts the connection and then says nothing gives up after
    petpos's connect timeout (1 s here). asyncpg's own would be 60 s, past HANG_GUARD_SECONDS: an
    answer within the guard shows that petpos's timeout applied, and that its expiry is answered
    503 UNAVAILABLE."""
    from app.db import connectivity

    monkeypatch.setattr(connectivity, "CONNECT_TIMEOUT_SECONDS", 1)
    with socket.socket() as silent:  # accepts connections (the backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        settings = make_settings(f"postgresql://petpos:secret@127.0.0.1:{silent.getsockname()[1]}/petpos")
        database = Database(settings)
        app = create_app(settings, database)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://petpos.test") as http:
                response = await answered(
                    http.post("/graphql", json={"query": "{ products(first: 1) { edges { cursor } } }"})
                )
                assert_unavailable(response)
        finally:
            await database.dispose()
