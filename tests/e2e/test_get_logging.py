"""A GET's query string reaches no log of a real `petpos serve` (uvicorn's access log included): its
variables, or a refused mutation's arguments, may hold an email or a password."""

import json

import httpx

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
