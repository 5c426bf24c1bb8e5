"""Faults against real processes: `petpos serve --workers 2` on a real PostgreSQL that the tests stop,
restart and cut off with its own pg_ctl; a worker SIGKILLed under traffic; a client that hangs up
mid-mutation; SIGTERM under load. Each asserts exact outcomes (no 5xx but 503 UNAVAILABLE, never
INTERNAL, every acknowledged write in the database) and ends with a clean `petpos check`."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.embedded import EmbeddedPostgres
from tests.e2e.live_server import (
    ADMIN,
    CUSTOMER,
    PETPOS,
    STAFF,
    Api,
    Serve,
    env_for,
    error_codes,
    petpos_check,
    pg_ctl,
    postmaster_pid,
)
from tests.e2e.test_serve import postgres_running, until

PRODUCTS = "{ products(first: 1) { edges { node { id stock } } } }"
ME = "{ me { id } }"
ADD = "mutation($p: ID!, $q: Int!) { addToCart(productId: $p, quantity: $q) { errors { code } cart { id } } }"
CHECKOUT = (
    "mutation($k: String!) { checkout(input: {idempotencyKey: $k}) { replayed errors { code } sale { id } } }"
)
REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { token errors { code } } }"
CREATE_PRODUCT = "mutation($i: ProductInput!) { createProduct(input: $i) { product { id } errors { code } } }"
TRANSPORT_ERRORS = (httpx.TransportError,)
STARTUP_COMPLETE = "Application startup complete"


@dataclass
class Shop:
    """A real PostgreSQL (the tests' own, started and stopped with its pg_ctl), `petpos serve
    --workers 2` on it, and a product with plenty of stock."""

    pg: EmbeddedPostgres
    server: Serve
    product: str
    customers: int = 0

    @property
    def env(self) -> dict[str, str]:
        return self.server.env

    def check(self) -> None:
        result = petpos_check(self.env)
        assert result.returncode == 0, result.stdout + result.stderr

    async def connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.pg.url)

    async def register(self, api: Api, n: int) -> list[str]:
        tokens = []
        for _ in range(n):
            self.customers += 1
            i = self.customers
            data = await api.data(
                REGISTER,
                {
                    "i": {
                        "email": f"shopper{i}@example.com",
                        "phone": f"+1 202 555 {1000 + i:04d}",
                        "name": f"Shopper {i}",
                        "password": "correct horse battery",
                    }
                },
            )
            tokens.append(data["register"]["token"])
        return tokens


def _run(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([str(PETPOS), *args], env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def scratch():
    """Outside pytest's tmp_path: pytest makes its base directory private to root again as it
    creates each test's, and the embedded PostgreSQL runs as its own user (as root) and must
    reach its data directory for as long as the module runs."""
    path = Path(tempfile.mkdtemp(prefix="petpos-faults-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def shop(scratch):
    pg = EmbeddedPostgres(scratch / "pgdata", delete_on_stop=True)
    server = None
    try:
        # No outbox polls: a scrape then finds no connection in use but a test's.
        settings = {
            "DATABASE_URL": pg.url,
            "PETPOS_LOCK_TIMEOUT_MS": "60000",
            "PETPOS_OUTBOX_POLL_SECONDS": "3600",
        }
        env = env_for(scratch / "data", **settings)
        _run(env, "migrate")
        _run(env, "seed", "--demo")
        server = Serve(scratch / "data", workers=2, settings=settings)
        server.wait_ready()

        async def product() -> str:
            async with Api(server.url) as api:
                token = await api.login(ADMIN)
                data = await api.data(
                    CREATE_PRODUCT,
                    {
                        "i": {
                            "sku": "FAULT-1",
                            "name": "Chew toy",
                            "category": "TOY",
                            "price": "2.50",
                            "stock": 1_000_000,
                        }
                    },
                    token,
                )
                return data["createProduct"]["product"]["id"]

        yield Shop(pg=pg, server=server, product=asyncio.run(product()))
    finally:
        if server is not None:
            try:
                server.stop()
            except subprocess.TimeoutExpired:
                server.kill()
        pg.stop()


# The client timeout of every request while PostgreSQL is down: a request that hangs fails as a
# client-side timeout instead of hanging the test. A guard, not a measure (no test asserts how long an
# answer took), and below the server's pool timeout (SQLAlchemy's 30 s), so an answer that had to
# wait for a pooled connection fails here. That it comes at once, not after any timeout, is proven
# in-process with every petpos timeout set to an hour (tests/reliability/test_unavailable.py).
OUTAGE_CLIENT_TIMEOUT = 10


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "1"
    assert error_codes(response) == ["UNAVAILABLE"], response.text


async def test_postgres_down_answers_503_unavailable_and_every_request_succeeds_once_it_is_back(shop):
    """While PostgreSQL is down, every request (a query, a bearer token's check, a mutation) on
    both workers is answered 503 UNAVAILABLE with Retry-After, and /readyz 503. From the first
    request after `pg_ctl start` returns, every one succeeds on both workers: no stale pooled
    connection fails one. How soon all is well again is not asserted here: bench/soak.py measures
    it ("PostgreSQL restart: healthy again after … s", docs/reliability.md, Soak) and fails on any
    request sent from 2 s after PostgreSQL was back on that does not succeed."""
    async with Api(shop.server.url) as api, Api(shop.server.url, timeout=OUTAGE_CLIENT_TIMEOUT) as outage:
        token = await api.login(CUSTOMER)
        shop.server.wait_ready()  # both workers up
        pg_ctl(shop.pg.pgdata, "-m", "fast", "stop")
        try:
            for query, variables, caller in [
                (PRODUCTS, None, None),  # a query
                (ME, None, token),  # the bearer token checked against the database, before any field
                (ADD, {"p": shop.product, "q": 1}, token),  # a mutation
            ]:
                for _ in range(4):  # both workers
                    assert_unavailable(await outage.post(query, variables, caller))
            assert (await outage.client.get("/readyz")).status_code == 503
        finally:
            shop.pg.start()
        # Every request from the first one on succeeds, on both workers: no stale pooled connection.
        responses = await asyncio.gather(
            *[api.post(ADD, {"p": shop.product, "q": 1}, token) for _ in range(10)],
            *[api.post(PRODUCTS) for _ in range(10)],
        )
        for response in responses:
            assert response.status_code == 200 and error_codes(response) == [], response.text
        sale = (await api.data(CHECKOUT, {"k": str(uuid.uuid4())}, token))["checkout"]
        assert sale["errors"] == [] and sale["sale"]["id"]
        assert (await api.client.get("/readyz")).status_code == 200
    shop.check()


SUBSCRIBE = "subscription($o: ID!) { saleOrderUpdated(orderId: $o) { version } }"
CREATE_ORDER = "mutation { createSaleOrder(input: {}) { order { id } errors { code } } }"
ADD_ITEM = "mutation($i: AddSaleOrderItemInput!) { addSaleOrderItem(input: $i) { errors { code } } }"


async def test_a_subscription_carries_on_across_a_postgres_restart(shop):
    """Each worker's LISTEN connection dies with the server; it reconnects and its subscribers
    re-read, so a change made after the restart still reaches a subscription opened before it."""
    async with Api(shop.server.url) as api:
        staff = await api.login(STAFF)
        order = (await api.data(CREATE_ORDER, token=staff))["createSaleOrder"]["order"]["id"]
        url = shop.server.url.replace("http", "ws") + "/graphql"
        async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:
            await socket.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {staff}"}})
            )
            assert (await _receive(socket))["type"] == "connection_ack"
            await socket.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": SUBSCRIBE, "variables": {"o": order}},
                    }
                )
            )
            assert (await _receive(socket))["payload"]["data"]["saleOrderUpdated"]["version"] == 1
            pg_ctl(shop.pg.pgdata, "-m", "fast", "restart")
            item = {"orderId": order, "itemType": "PRODUCT", "itemId": shop.product, "quantity": 1}
            assert (await api.data(ADD_ITEM, {"i": item}, staff))["addSaleOrderItem"]["errors"] == []
            assert (await _receive(socket))["payload"]["data"]["saleOrderUpdated"]["version"] == 2
    shop.check()


async def test_a_websocket_whose_token_cannot_be_checked_while_postgres_is_down_is_closed_1013(shop):
    """A new customer's token is known to no worker yet: connection_init reads the database, and
    while it is down the socket is closed 1013 (try again later), not refused as if signed out."""
    async with Api(shop.server.url) as api:
        [token] = await shop.register(api, 1)
    url = shop.server.url.replace("http", "ws") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:
        pg_ctl(shop.pg.pgdata, "-m", "fast", "stop")
        try:
            await socket.send(
                json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
            )
            with pytest.raises(ConnectionClosed) as closed:
                await _receive(socket)
        finally:
            shop.pg.start()
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1013, "Database unavailable")
    shop.check()


async def _receive(socket) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), 15))


async def test_connections_dropped_by_the_server_never_fail_a_request(shop):
    async with Api(shop.server.url) as api:
        token = await api.login(CUSTOMER)
        await asyncio.gather(*[api.data(ME, token=token) for _ in range(20)])  # fill both pools
        admin = await shop.connect()
        try:
            dropped = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        finally:
            await admin.close()
        assert dropped >= 2
        responses = await asyncio.gather(
            *[api.post(ME, token=token) for _ in range(10)],
            *[api.post(ADD, {"p": shop.product, "q": 1}, token) for _ in range(10)],
        )
        for response in responses:
            assert response.status_code == 200 and error_codes(response) == [], response.text
    shop.check()


@dataclass
class Traffic:
    """Shoppers adding to their carts and checking out, each checkout settled by retrying it with the
    same idempotency key until it is acknowledged; every response noted with the time it came."""

    api: Api
    product: str
    sales: list[str] = field(default_factory=list)
    answers: list[tuple[float, str]] = field(default_factory=list)  # (when, "200" / "503 UNAVAILABLE" …)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def call(self, query: str, variables: dict, token: str) -> dict | None:
        """One request; the data when it was answered 200 without top-level errors, else None."""
        try:
            response = await self.api.post(query, variables, token)
        except TRANSPORT_ERRORS as error:
            self.answers.append((time.monotonic(), type(error).__name__))
            await asyncio.sleep(0.05)
            return None
        body = response.json()
        codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
        self.answers.append((time.monotonic(), " ".join([str(response.status_code), *map(str, codes)])))
        if response.status_code != 200 or codes:
            await asyncio.sleep(0.05)
            return None
        return body["data"]

    async def shopper(self, token: str) -> None:
        while not self.stop.is_set():
            while await self.call(ADD, {"p": self.product, "q": 1}, token) is None:
                if self.stop.is_set():
                    return
            key = str(uuid.uuid4())
            while (data := await self.call(CHECKOUT, {"k": key}, token)) is None:
                if self.stop.is_set():
                    return  # a test that gave up: its counts fail it
                # Outcome unknown: the same key settles it.
            assert data["checkout"]["errors"] == [], data
            self.sales.append(data["checkout"]["sale"]["id"])

    def after(self, moment: float) -> Counter:
        return Counter(answer for when, answer in self.answers if when >= moment)


async def sales_of(shop: Shop) -> set[str]:
    connection = await shop.connect()
    try:
        rows = await connection.fetch(
            "SELECT s.id FROM sales s JOIN users u ON u.id = s.customer_id WHERE u.email LIKE 'shopper%'"
        )
    finally:
        await connection.close()
    return {str(row["id"]) for row in rows}


async def test_a_worker_killed_under_traffic_is_replaced_and_no_acknowledged_write_is_lost(shop):
    async with Api(shop.server.url, timeout=60) as api:
        tokens = await shop.register(api, 8)
        before = await sales_of(shop)
        traffic = Traffic(api, shop.product)
        shoppers = [asyncio.create_task(traffic.shopper(token)) for token in tokens]
        try:
            await until(lambda: _at_least(traffic.sales, 16), timeout=60)
            workers = shop.server.worker_pids()
            victim = min(workers)
            started_up = shop.server.output().count(STARTUP_COMPLETE)
            os.kill(victim, signal.SIGKILL)
            killed = time.monotonic()
            await until(lambda: _replaced(shop.server, workers - {victim}, started_up), timeout=60)
            replaced = time.monotonic()
            # Answers from a second after the replacement on, when the new worker takes its share.
            await until(lambda: _answered_since(traffic, replaced + 1.0, 16), timeout=60)
        finally:
            traffic.stop.set()
            await asyncio.gather(*shoppers)
    # The other worker kept answering while the replacement started.
    during = Counter(a for when, a in traffic.answers if killed <= when < replaced)
    assert during["200"] > 0, (during, replaced - killed)
    # Only requests cut off with the worker failed (no response at all); never a 5xx or INTERNAL.
    assert set(Counter(a for _, a in traffic.answers)) <= {"200", "ReadError", "RemoteProtocolError"}
    assert set(traffic.after(replaced + 1.0)) == {"200"}
    # Every acknowledged checkout is in the database, and nothing else was recorded.
    assert await sales_of(shop) - before == set(traffic.sales)
    assert len(set(traffic.sales)) == len(traffic.sales)
    shop.check()


def sample(scrape: str, name: str) -> float:
    """The value of one sample (the name with its labels, as written) in a /metrics scrape."""
    for line in scrape.splitlines():
        if line.startswith(name + " "):
            return float(line.rpartition(" ")[2])
    return 0.0


async def test_every_scrape_of_metrics_adds_up_both_workers(shop):
    """Each request, and each scrape, goes to whichever worker takes the connection; every scrape
    answers the server's totals all the same. No connection is in use once the server is idle,
    though a worker killed with some in use (the test above) never said so."""
    products = 'petpos_graphql_requests_total{operation="query.products",outcome="ok"}'
    async with Api(shop.server.url) as api:
        before = sample((await api.client.get("/metrics")).text, products)
        responses = await asyncio.gather(*[api.post(PRODUCTS) for _ in range(40)])
        assert {r.status_code for r in responses} == {200}
        scrapes = [(await api.client.get("/metrics")).text for _ in range(8)]
    assert [sample(scrape, products) for scrape in scrapes] == [before + 40] * 8
    assert [sample(scrape, "petpos_db_pool_checked_out") for scrape in scrapes] == [0] * 8
    # Both workers counted some of it (or the totals above would hold without adding anything up).
    workers = shop.server.worker_pids()
    directory = psutil.Process(min(workers)).environ()["PROMETHEUS_MULTIPROC_DIR"]
    counted = {
        int(name.removesuffix(".db").rpartition("_")[2])
        for name in os.listdir(directory)
        if name.startswith("counter_")
    }
    assert counted >= workers


async def _answered_since(traffic: Traffic, moment: float, n: int) -> bool:
    return traffic.after(moment)["200"] >= n


async def _at_least(items: list, n: int) -> bool:
    return len(items) >= n


async def _replaced(server: Serve, survivors: set[int], started_up: int) -> bool:
    """A new worker has started serving (uvicorn logs each worker's startup) next to the survivors."""
    pids = server.worker_pids()
    serving = server.output().count(STARTUP_COMPLETE) > started_up
    return serving and len(pids) == server.workers and survivors <= pids


async def _waiters(connection: asyncpg.Connection) -> int:
    return await connection.fetchval("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted")


async def test_a_client_hanging_up_mid_checkout_leaves_it_whole_and_a_retry_returns_the_first_result(shop):
    async with Api(shop.server.url) as api:
        (token,) = await shop.register(api, 1)
        await api.data(ADD, {"p": shop.product, "q": 3}, token)
        key = str(uuid.uuid4())
        holder = await shop.connect()
        try:
            held = holder.transaction()
            await held.start()
            # The checkout's first lock is the caller's cart: hold it so the checkout waits, mid-way.
            await holder.execute(
                "SELECT 1 FROM carts WHERE customer_id = (SELECT id FROM users WHERE email = $1) FOR UPDATE",
                f"shopper{shop.customers}@example.com",
            )
            hung_up = asyncio.create_task(api.post(CHECKOUT, {"k": key}, token))
            await until(lambda: _has_waiters(holder, 1))
            hung_up.cancel()  # the client closes its connection while the mutation runs
            with pytest.raises(asyncio.CancelledError):
                await hung_up
            await held.rollback()

            async def settled() -> bool:
                return await holder.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", key) == 1

            await until(settled)
            # The connection went back to the pool clean: no session of the server is left in a
            # transaction.
            await until(lambda: _no_open_transactions(holder))
            sale_ids = await holder.fetch(
                "SELECT s.id FROM sales s JOIN users u ON u.id = s.customer_id WHERE u.email = $1",
                f"shopper{shop.customers}@example.com",
            )
        finally:
            await holder.close()
        assert len(sale_ids) == 1
        retry = (await api.data(CHECKOUT, {"k": key}, token))["checkout"]
        assert retry == {"replayed": True, "errors": [], "sale": {"id": str(sale_ids[0]["id"])}}
    shop.check()


async def _has_waiters(connection: asyncpg.Connection, n: int) -> bool:
    return await _waiters(connection) == n


async def _no_open_transactions(connection: asyncpg.Connection) -> bool:
    return (
        await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' AND state LIKE 'idle in transaction%'"
        )
        == 0
    )


async def test_sigterm_under_load_lets_requests_in_flight_finish_and_exits_0(shop):
    server = shop.server  # the module's last test: it stops the server
    try:
        server.wait_ready()
        async with Api(server.url, timeout=60) as api:
            tokens = await shop.register(api, 6)
            for token in tokens:
                await api.data(ADD, {"p": shop.product, "q": 1}, token)
            holder = await shop.connect()
            try:
                held = holder.transaction()
                await held.start()
                # Every checkout locks the product: held here, six of them are in flight together.
                await holder.execute(
                    "SELECT 1 FROM products WHERE id = $1 FOR UPDATE", uuid.UUID(shop.product)
                )
                keys = [str(uuid.uuid4()) for _ in tokens]
                in_flight = [
                    asyncio.create_task(api.post(CHECKOUT, {"k": key}, token))
                    for key, token in zip(keys, tokens, strict=True)
                ]
                traffic = Traffic(api, shop.product)
                readers = [asyncio.create_task(_read(traffic)) for _ in range(8)]
                await until(lambda: _has_waiters(holder, len(tokens)))
                server.process.send_signal(signal.SIGTERM)
                traffic.stop.set()
                # Both workers are shutting down (the parent keeps the listening socket until it exits).
                await until(lambda: _shutting_down(server))
                assert not any(task.done() for task in in_flight)
                await held.rollback()
                answered = await asyncio.gather(*in_flight)
                await asyncio.gather(*readers)
                acked = {r.json()["data"]["checkout"]["sale"]["id"] for r in answered}
                in_db = await holder.fetch(
                    "SELECT s.id FROM sales s JOIN idempotency_keys k ON k.result_id = s.id "
                    "WHERE k.key = ANY($1::text[])",
                    keys,
                )
            finally:
                await holder.close()
        assert server.process.wait(60) == 0, server.output()
    finally:
        if server.process.poll() is None:
            server.kill()
    for response in answered:
        assert response.status_code == 200 and error_codes(response) == [], response.text
    assert acked == {str(row["id"]) for row in in_db} and len(acked) == len(tokens)
    # Reads ran until SIGTERM: each one answered was a 200 (one still waiting to be accepted when the
    # workers stopped accepting gets no answer at all).
    answers = Counter(a for _, a in traffic.answers)
    assert set(answers) <= {"200", "ReadError", "RemoteProtocolError"} and answers["200"] > 0, answers
    shop.check()


async def _shutting_down(server: Serve) -> bool:
    return server.output().count("Shutting down") >= server.workers


async def _read(traffic: Traffic) -> None:
    while not traffic.stop.is_set():
        try:
            response = await traffic.api.post(PRODUCTS)
        except httpx.TransportError as error:
            traffic.answers.append((time.monotonic(), type(error).__name__))
            continue
        traffic.answers.append((time.monotonic(), str(response.status_code)))


def test_serve_restarts_its_embedded_postgres_and_stops_whatever_runs_on_its_data_at_shutdown(scratch):
    """After a crash the supervisor starts PostgreSQL again, and after someone's `pg_ctl restart`
    serve keeps using that one: each time requests are answered 503 UNAVAILABLE until the first
    succeeds, and every one after it succeeds. The deadlines only keep a server that never recovers
    from hanging the test; how soon it recovers is not asserted here: bench/soak.py measures the
    `pg_ctl restart` case (docs/reliability.md, Soak), and the supervisor logs each restart it makes
    ("restarted the embedded PostgreSQL after … s")."""
    data_dir = scratch / "embedded"
    pgdata = (data_dir / "pgdata").resolve()
    # Production: no demo data to seed, so it starts sooner.
    server = Serve(data_dir, workers=2, settings={"PETPOS_ENV": "production", "PETPOS_SECRET_KEY": "k" * 48})
    try:
        server.wait_ready()
        first = postmaster_pid(pgdata)
        assert first is not None
        # A crash: the postmaster goes away without a shutdown checkpoint.
        pg_ctl(pgdata, "-m", "immediate", "stop")
        _until_answered(server)
        second = postmaster_pid(pgdata)
        assert second not in (None, first)
        # Restarted by someone else: serve keeps using it, and stops that one at shutdown.
        pg_ctl(pgdata, "-m", "fast", "restart")
        _until_answered(server)
        third = postmaster_pid(pgdata)
        assert third not in (None, first, second)
        result = petpos_check(server.env)  # on the running server's database; leaves it running
        assert result.returncode == 0, result.stdout + result.stderr
        assert server.stop() == 0, server.output()
    finally:
        if server.process.poll() is None:
            server.kill()
    assert not postgres_running(data_dir), "serve left the restarted PostgreSQL running"


def _until_answered(server: Serve, deadline_seconds: float = 120) -> None:
    """Poll with a query until one is answered 200: every answer before it was 503 UNAVAILABLE, and
    every one of the next ten (each on a new connection, which either worker may take) is 200 too.
    The deadline only guards against a server that never recovers; it is no measure of how soon."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        response = httpx.post(
            f"{server.url}/graphql", json={"query": PRODUCTS}, timeout=OUTAGE_CLIENT_TIMEOUT
        )
        if response.status_code == 200:
            assert error_codes(response) == [], response.text
            for _ in range(10):
                response = httpx.post(f"{server.url}/graphql", json={"query": PRODUCTS}, timeout=30)
                assert response.status_code == 200 and error_codes(response) == [], response.text
            return
        assert_unavailable(response)
        time.sleep(0.05)
    raise AssertionError("never answered 200 again:\n" + server.output())
