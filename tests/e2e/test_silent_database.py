"""A real `petpos serve` whose database goes silent: every connection it holds (the pool and the
LISTEN connection) stops passing a byte, with no error, as behind a firewall that dropped them
(tests/blackhole.py). Requests are answered, never left hanging: the first that meets the silence
503 UNAVAILABLE, the next ones on fresh connections, and a token revoked meanwhile is refused."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import asyncpg
import pytest

from app.embedded import EmbeddedPostgres
from tests.blackhole import blackhole
from tests.e2e.live_server import CUSTOMER, Api, Serve, env_for, error_codes, petpos_check
from tests.e2e.test_faults import ADD, ME, OUTAGE_CLIENT_TIMEOUT, PRODUCTS, _run, assert_unavailable


@pytest.fixture(scope="module")
def scratch():
    path = Path(tempfile.mkdtemp(prefix="petpos-silent-"))
    path.chmod(0o755)  # the embedded PostgreSQL runs as its own user and must reach its data
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def silent_shop(scratch):
    """PostgreSQL, and `petpos serve` on it through the proxy that goes silent. A statement waits
    2 s at most (the lock timeout and the database timeout, 1 s each); the outbox sender does not
    poll, so no request but the test's meets the silence first."""
    pg = EmbeddedPostgres(scratch / "pgdata", delete_on_stop=True)
    server = None
    try:
        direct = env_for(scratch / "data", DATABASE_URL=pg.url)
        _run(direct, "migrate")
        _run(direct, "seed", "--demo")
        with blackhole(pg.url) as hole:
            server = Serve(
                scratch / "data",
                workers=1,
                settings={
                    "DATABASE_URL": hole.url,
                    "PETPOS_LOCK_TIMEOUT_MS": "1000",
                    "PETPOS_DATABASE_TIMEOUT_MS": "1000",
                    "PETPOS_OUTBOX_POLL_SECONDS": "3600",
                },
            )
            server.wait_ready()
            yield pg, hole, server, direct
    finally:
        if server is not None:
            server.stop()
        pg.stop()


async def test_requests_to_a_database_gone_silent_are_answered_and_a_token_revoked_meanwhile_is_refused(
    silent_shop,
):
    pg, hole, server, direct = silent_shop
    async with Api(server.url, timeout=OUTAGE_CLIENT_TIMEOUT) as api:
        token = await api.login(CUSTOMER)
        assert (await api.data(ME, token=token))["me"]["id"]  # the user is kept by the process now
        product = (await api.data(PRODUCTS))["products"]["edges"][0]["node"]["id"]
        hole.silence()
        # A sign-out everywhere, committed where the server's LISTEN connection cannot hear it.
        connection = await asyncpg.connect(pg.url)
        try:
            await connection.execute(
                "UPDATE users SET token_version = token_version + 1 WHERE email = $1", CUSTOMER[0]
            )
        finally:
            await connection.close()

        assert_unavailable(await api.post(PRODUCTS))  # on a pooled connection: silent
        refused = await api.post(ME, token=token)  # the LISTEN connection's round trip goes unanswered
        assert refused.status_code == 401 and error_codes(refused) == ["UNAUTHENTICATED"], refused.text
        token = await api.login(CUSTOMER)
        assert (await api.data(ME, token=token))["me"]["id"]
        added = await api.data(ADD, {"p": product, "q": 1}, token)
        assert added["addToCart"]["errors"] == []
        assert (await api.client.get("/readyz")).status_code == 200
    result = petpos_check(direct)
    assert result.returncode == 0, result.stdout + result.stderr
