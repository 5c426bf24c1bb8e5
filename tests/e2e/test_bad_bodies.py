"""Against a real `petpos serve` (uvicorn, every middleware): bodies that are not a GraphQL request are
400 JSON with X-Request-ID, deep nesting neither crashes nor stalls the worker, bad strings are VALIDATION."""

import json

import httpx

from tests.e2e.test_serve import free_port, start, stop, wait_ready

NOT_AN_ARRAY = (
    "The request body must be a JSON object with a `query` string, "
    "not an array (batched requests are not supported)"
)
ONE_MIB = 1024 * 1024


async def test_bad_bodies_get_400_json_from_a_served_process(tmp_path, database_url, db):
    port = free_port()
    server = start(tmp_path / "data", port, DATABASE_URL=database_url)
    try:
        wait_ready(server, port)
        url = f"http://127.0.0.1:{port}/graphql"
        async with httpx.AsyncClient(timeout=10, headers={"content-type": "application/json"}) as http:
            for body, message in [
                (b'{"query": "{ me { id } }\xc3\x28"}', "The request body is not valid UTF-8"),
                (b"[" * 100_000, "The request body is JSON nested too deeply"),
                (b"[" * (ONE_MIB - 1), "The request body is JSON nested too deeply"),  # under the size limit
                (b"[]", NOT_AN_ARRAY),
            ]:
                response = await http.post(url, content=body)
                assert response.status_code == 400, response.text
                assert response.headers["content-type"] == "application/json"
                assert response.json() == {"errors": [{"message": message}]}
                assert response.headers["x-request-id"]
            document = "query($s: String!) { productBySku(sku: $s) { id } }"
            nul = await http.post(url, content=json.dumps({"query": document, "variables": {"s": "a\x00b"}}))
            assert nul.status_code == 200
            assert nul.json()["errors"][0]["extensions"] == {"code": "VALIDATION"}
            fine = await http.post(url, json={"query": "{ __typename }"})
            assert fine.json() == {"data": {"__typename": "Query"}}
    finally:
        output = stop(server)
    assert server.returncode == 0, output
    assert "Traceback" not in output, output
