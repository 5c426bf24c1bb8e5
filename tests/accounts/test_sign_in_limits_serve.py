"""The client address a real `petpos serve` counts failed sign-ins and new accounts against: the
peer, or the client a trusted proxy names in X-Forwarded-For (uvicorn's proxy headers)."""

import httpx

from tests.e2e.test_serve import free_port, start, stop, wait_ready

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token errors { code } } }"
CUSTOMER = {"e": "customer@petpos.example", "p": "petpos-customer"}  # a demo login


REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { token errors { code } } }"


def post(port: int, query: str, variables: dict, forwarded_for: str | None = None) -> dict:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    )
    return response.json()["data"]


def login(port: int, variables: dict, forwarded_for: str | None = None) -> dict:
    return post(port, LOGIN, variables, forwarded_for)["login"]


def register(port: int, n: int, forwarded_for: str | None = None) -> dict:
    account = {"email": f"new{n}@example.com", "phone": f"+1 202 555 {n:04d}", "name": "N"}
    account["password"] = "long enough password"
    return post(port, REGISTER, {"i": account}, forwarded_for)["register"]


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


def test_new_accounts_are_counted_per_client_behind_a_proxy_on_the_same_host(tmp_path):
    port = free_port()
    limit = {"PETPOS_REGISTER_MAX_PER_ADDRESS": "2", "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    server = start(tmp_path / "data", port, **limit)
    try:
        wait_ready(server, port)
        assert [register(port, n, "203.0.113.9")["errors"] for n in (1, 2)] == [[], []]
        assert register(port, 3, "203.0.113.9") == {"token": None, "errors": [{"code": "RATE_LIMITED"}]}
        assert register(port, 4, "198.51.100.4")["token"]  # another client behind the same proxy
        assert register(port, 5)["token"]  # the proxy's own address is a client of its own
    finally:
        output = stop(server)
    assert server.returncode == 0, output
