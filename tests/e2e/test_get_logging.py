"""A GET's query string reaches no log of a real `petpos serve` (uvicorn's access log included): its
variables, or a refused mutation's arguments, may hold an email or a password."""

import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.e2e.test_serve import free_port, start, stop, wait_ready

EMAIL, PASSWORD = "get-probe@example.com", "get-probe-password-1234"


async def test_a_get_query_string_is_never_logged(tmp_path, database_url, db):
    port = free_port()
    server = start(tmp_path / "data", port, DATABASE_URL=database_url)
    try:
        wait_ready(server, port)
        url = f"http://127.0.0.1:{port}/graphql"
        query = httpx.get(
            url,
            params={
                "query": "query($e: String!) { productBySku(sku: $e) { id } }",
                "variables": json.dumps({"e": EMAIL}),
            },
        )
        assert query.json() == {"data": {"productBySku": None}}
        login = f'mutation {{ login(email: "{EMAIL}", password: "{PASSWORD}") {{ token }} }}'
        assert httpx.get(url, params={"query": login}).status_code == 405
    finally:
        output = stop(server)
    # The requests were logged (by petpos: uvicorn's access log is off), without their query strings.
    assert '"method": "GET", "path": "/graphql", "status": 200' in output
    assert '"method": "GET", "path": "/graphql", "status": 405' in output
    assert EMAIL not in output and PASSWORD not in output and "get-probe" not in output, output


async def test_a_websocket_query_string_and_a_refused_origin_reach_the_log_only_as_harmless_text(
    tmp_path, database_url, db
):
    """uvicorn logs each WebSocket handshake with its path: a client may carry its token in the query
    string, which is cut off. A refused Origin is logged as Python writes the string, so a header's
    bytes (U+0085 ends a line for some readers, U+009B starts a terminal escape) stay escaped."""
    port = free_port()
    server = start(tmp_path / "data", port, DATABASE_URL=database_url)
    try:
        wait_ready(server, port)
        url = f"ws://127.0.0.1:{port}/graphql"
        async with connect(f"{url}?token=ws-probe-secret", subprotocols=["graphql-transport-ws"]):
            pass
        hostile = "http://evil.example\x85\x9b31m"
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, subprotocols=["graphql-transport-ws"], origin=hostile):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
    finally:
        output = stop(server)
    assert '"WebSocket /graphql" [accepted]' in output and "ws-probe-secret" not in output, output
    assert "refused WebSocket from origin 'http://evil.example\\x85\\x9b31m'" in output, output
    assert "\x85" not in output and "\x9b" not in output


async def test_a_warning_written_while_serving_a_request_names_the_request(tmp_path, database_url, db):
    """A line from deep in the handling (here the sign-in limit reached) ends with the request's id,
    the X-Request-ID its client was answered with; lines outside any request carry none."""
    port = free_port()
    server = start(
        tmp_path / "data", port, DATABASE_URL=database_url, PETPOS_LOGIN_MAX_FAILURES_PER_ACCOUNT="1"
    )
    try:
        wait_ready(server, port)
        login = f'mutation {{ login(email: "{EMAIL}", password: "wrong") {{ token }} }}'
        answer = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": login},
            headers={"X-Request-ID": "limit-probe-1"},
        )
        assert answer.headers["x-request-id"] == "limit-probe-1"
    finally:
        output = stop(server)
    [line] = [line for line in output.splitlines() if "sign-in limit reached" in line]
    assert line.endswith("refused until its window passes (request limit-probe-1)"), output
    [startup] = [line for line in output.splitlines() if "PETPOS_SMTP_URL is not set" in line]
    assert "(request" not in startup
