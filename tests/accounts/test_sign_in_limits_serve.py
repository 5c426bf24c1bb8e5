"""The client address a real `petpos serve` counts failed sign-ins against: the peer, or the
client a trusted proxy names in X-Forwarded-For (uvicorn's proxy headers)."""

import httpx

from tests.e2e.test_serve import free_port, start, stop, wait_ready

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token errors { code } } }"
CUSTOMER = {"e": "customer@petpos.example", "p": "petpos-customer"}  # a demo login


def login(port: int, variables: dict, forwarded_for: str | None = None) -> dict:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": LOGIN, "variables": variables},
        headers=headers,
        timeout=30,
    )
    return response.json()["data"]["login"]


def test_a_proxy_on_the_same_host_has_each_client_counted_apart(tmp_path):
    port = free_port()
    # 127.0.0.1 is uvicorn's default trusted proxy; named here so the environment cannot change it.
    server = start(
        tmp_path / "data", port, PETPOS_LOGIN_MAX_FAILURES_PER_ADDRESS="3", FORWARDED_ALLOW_IPS="127.0.0.1"
    )
    try:
        wait_ready(server, port)
        for i in range(3):
            wrong = login(port, {"e": f"guess{i}@petpos.example", "p": "wrong password"}, "203.0.113.9")
            assert wrong["errors"] == [{"code": "INVALID_CREDENTIALS"}]
        assert login(port, CUSTOMER, "203.0.113.9")["errors"] == [{"code": "RATE_LIMITED"}]
        assert login(port, CUSTOMER, "198.51.100.4")["token"]  # another client behind the same proxy
        assert login(port, CUSTOMER)["token"]  # the proxy's own address is a client of its own
    finally:
        output = stop(server)
    assert server.returncode == 0, output
