"""/metrics: the pool gauge follows the connections in use as they are taken and given back; with
several workers each keeps its metrics in the directory serve gives them and a scrape adds them up
(app/metrics.py): a worker that has exited still counts in the totals, while its gauges, which say
what is going on now, are dropped. A real two-worker serve is scraped in tests/e2e/test_faults.py."""

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from asyncpg.exceptions import ConnectionDoesNotExistError
from prometheus_client import REGISTRY
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError

from app.api.extensions import refusals_counted
from app.db.connectivity import is_unavailable
from app.db.engine import Database
from app.graphql_http import RefusedToken
from app.logs import NAMES_REQUEST, REQUEST_ID, RequestIdFilter
from app.metrics import MULTIPROCESS_DIR, scrape
from tests.blackhole import blackhole
from tests.conftest import make_settings

# A worker's whole life: it answers one request while holding three connections, then is killed.
WORKER = """
from app import metrics
metrics.REQUESTS.labels(operation="query.products", outcome="ok").inc()
metrics.POOL_IN_USE.inc(3)
"""


def sample(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rpartition(" ")[2])
    return None


def test_a_worker_that_exited_still_counts_in_the_totals_but_not_in_the_gauges(tmp_path: Path, monkeypatch):
    env = {MULTIPROCESS_DIR: str(tmp_path), "PATH": ""}
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", WORKER], env=env, cwd=root, check=True, timeout=60)
    monkeypatch.setenv(MULTIPROCESS_DIR, str(tmp_path))
    scraped = scrape().decode()
    assert sample(scraped, 'petpos_graphql_requests_total{operation="query.products",outcome="ok"}') == 1
    assert sample(scraped, "petpos_db_pool_checked_out") in (None, 0)


async def test_the_pool_gauge_counts_the_connections_in_use(db, client):
    async def in_use() -> float | None:
        return sample((await client.get("/metrics")).text, "petpos_db_pool_checked_out")

    idle = await in_use()
    first, second = await db.engine.connect(), await db.engine.connect()
    for connection in (first, second):
        await connection.execute(text("SELECT 1"))
    assert await in_use() == idle + 2
    await first.close()
    assert await in_use() == idle + 1
    await second.invalidate()  # dropped, not given back: no longer in use all the same
    await second.close()
    assert await in_use() == idle
    third = await db.engine.connect()
    await third.execute(text("SELECT 1"))
    await third.run_sync(lambda connection: connection.detach())  # as the pool does to one lost unclosed
    assert await in_use() == idle
    await third.close()
    assert await in_use() == idle


async def test_a_checkout_that_could_not_connect_is_not_counted_in_use(db, client, database_url):
    """A pooled connection the server closed is replaced at checkout; when the new one cannot be
    made (the server is gone) the pool gives the checkout back as if it had been used: it is not
    counted as given back."""

    async def in_use() -> float | None:
        return sample((await client.get("/metrics")).text, "petpos_db_pool_checked_out")

    idle = await in_use()
    with blackhole(database_url) as hole:
        gone = Database(make_settings(hole.url))
        try:
            async with gone.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))  # pooled now
            hole.close()  # the server hangs up, and no longer answers
            for _ in range(3):
                with pytest.raises(Exception) as refused:
                    async with gone.engine.connect() as connection:
                        await connection.execute(text("SELECT 1"))
                assert is_unavailable(refused.value)
        finally:
            await gone.dispose()
    assert await in_use() == idle


async def test_payload_errors_are_counted_by_code_and_logged_with_the_operation(client, gql, users, caplog):
    """A failed sign-in or a refused mutation answers 200 with its errors in the payload: it still
    counts as an error, under its code, and its log line names the code."""
    await users.create(email="known@example.com")
    caplog.set_level(logging.INFO, logger="petpos.graphql")
    before = (await client.get("/metrics")).text
    login = 'mutation { login(email: "known@example.com", password: "wrong password") { token } }'
    assert (await gql(login))["data"]["login"]["token"] is None
    after = (await client.get("/metrics")).text

    def delta(name: str) -> float:
        return (sample(after, name) or 0) - (sample(before, name) or 0)

    assert delta('petpos_graphql_errors_total{code="INVALID_CREDENTIALS",operation="mutation.login"}') == 1
    assert delta('petpos_graphql_requests_total{operation="mutation.login",outcome="error"}') == 1
    assert delta('petpos_graphql_requests_total{operation="mutation.login",outcome="ok"}') == 0
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "petpos.graphql"]
    assert (line["operation"], line["outcome"], line["codes"]) == (
        "mutation.login",
        "error",
        ["INVALID_CREDENTIALS"],
    )


async def test_requests_refused_before_their_operation_runs_are_counted_and_logged(client, caplog):
    """A bearer token that signs no one in is answered 401 before any operation starts; an
    operationName the document does not hold is answered 400 VALIDATION. Both are counted under
    their code, so an alert on an error code sees the signed-in clients' requests too, and a
    client's operationName is cut short in the log line."""
    caplog.set_level(logging.INFO, logger="petpos.graphql")
    before = (await client.get("/metrics")).text
    bad_token = {"Authorization": "Bearer not-a-token", "X-Request-ID": "refused-1"}
    refused = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=bad_token)
    assert refused.status_code == 401
    long_name = "A" * 5000
    unknown = await client.post(
        "/graphql", json={"query": f"query {long_name} {{ __typename }}", "operationName": "Other"}
    )
    assert unknown.status_code == 400
    named = await client.post(
        "/graphql", json={"query": f"query {long_name} {{ __typename }}", "operationName": long_name}
    )
    assert named.json() == {"data": {"__typename": "Query"}}
    after = (await client.get("/metrics")).text

    def delta(name: str) -> float:
        return (sample(after, name) or 0) - (sample(before, name) or 0)

    assert delta('petpos_graphql_errors_total{code="UNAUTHENTICATED",operation="refused"}') == 1
    assert delta('petpos_graphql_requests_total{operation="refused",outcome="error"}') == 1
    assert delta('petpos_graphql_errors_total{code="VALIDATION",operation="invalid"}') == 1
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "petpos.graphql"]
    assert [(line["operation"], line["codes"]) for line in lines] == [
        ("refused", ["UNAUTHENTICATED"]),
        ("invalid", ["VALIDATION"]),
        ("query.__typename", []),
    ]
    assert lines[0]["request_id"] == "refused-1"
    assert lines[2]["operation_name"] == "A" * 100


def test_a_connection_lost_while_the_token_is_checked_counts_as_unavailable():
    """SQLAlchemy's errors carry a `code` of their own ("rvf5"): it is not the answer's."""
    lost = InterfaceError("SELECT", {}, ConnectionDoesNotExistError("connection was closed"))
    unavailable = ("petpos_graphql_errors_total", {"operation": "refused", "code": "UNAVAILABLE"})
    before = REGISTRY.get_sample_value(*unavailable) or 0
    with pytest.raises(InterfaceError), refusals_counted("lost-1", RefusedToken):
        raise lost
    assert REGISTRY.get_sample_value(*unavailable) == before + 1


def test_a_line_written_while_serving_a_request_ends_with_its_id_whatever_the_id_or_the_line():
    """The suffix is decided by a flag, never by reading the message: a line whose arguments do not
    fit its format is logging's own error to report, and an id of one letter is still named."""
    line = "%(message)s%(request)s"
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter(line))
    handler.addFilter(RequestIdFilter())
    log = logging.getLogger("petpos.test_request_id")
    log.addHandler(handler)
    log.propagate = False
    reset = REQUEST_ID.set("e")
    try:
        log.warning("lock given up on sale_orders")
        log.warning('{"request_id": "e"}', extra=NAMES_REQUEST)
        log.warning("a %s %s", 1)  # logging reports it on stderr; the caller goes on
    finally:
        REQUEST_ID.reset(reset)
        log.removeHandler(handler)
    written = handler.stream.getvalue().splitlines()
    assert written[:2] == ["lock given up on sale_orders (request e)", '{"request_id": "e"}']
