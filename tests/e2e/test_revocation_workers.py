"""A real `petpos serve --workers 2`: each worker keeps the users it authenticated, and a sign-out
everywhere answered by one worker refuses the token on the other worker at its very next request."""

import json
import os
import socket
import subprocess
import time

import psutil

from tests.e2e.test_serve import PETPOS, free_port, stop, wait_ready

ME = "{ me { id } }"
LOGIN = 'mutation { login(email: "staff@petpos.example", password: "petpos-staff") { token } }'
LOGOUT = "mutation { logout(everywhere: true) { ok } }"


class KeepAlive:
    """One HTTP/1.1 keep-alive connection, so the test knows which worker answers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.local_port = self.sock.getsockname()[1]
        self.buffer = b""

    def post(self, query: str, token: str | None = None) -> tuple[int, dict]:
        body = json.dumps({"query": query}).encode()
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.sock.sendall(
            f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nContent-Type: application/json\r\n"
            f"{auth}Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(65536)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
        while len(self.buffer) < length:
            self.buffer += self.sock.recv(65536)
        answer, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(head.split()[1]), json.loads(answer)

    def close(self) -> None:
        self.sock.close()


def worker_of(server: subprocess.Popen, connection: KeepAlive) -> int | None:
    for worker in psutil.Process(server.pid).children(recursive=True):
        try:
            for c in worker.net_connections(kind="tcp"):
                if c.laddr.port == connection.port and c.raddr and c.raddr.port == connection.local_port:
                    return worker.pid
        except psutil.Error:
            continue
    return None


def one_connection_per_worker(server: subprocess.Popen, port: int) -> list[KeepAlive]:
    """Open connections until two different workers hold one each (the kernel picks the worker)."""
    held: dict[int, KeepAlive] = {}
    for _ in range(200):
        connection = KeepAlive(port)
        connection.post("{ __typename }")  # accepted and answered: its worker is known
        owner = worker_of(server, connection)
        if owner is not None and owner not in held:
            held[owner] = connection
            if len(held) == 2:
                return list(held.values())
        else:
            connection.close()
        time.sleep(0.02)
    raise AssertionError("could not reach both workers")


def test_a_sign_out_everywhere_on_one_worker_refuses_the_token_on_the_other_at_once(tmp_path):
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PETPOS_SECRET_KEY", "PETPOS_ENV")
    }
    env["PETPOS_DATA_DIR"] = str(tmp_path / "data")
    server = subprocess.Popen(
        [str(PETPOS), "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_ready(server, port, timeout=180)
        a, b = one_connection_per_worker(server, port)
        token = a.post(LOGIN)[1]["data"]["login"]["token"]
        for _ in range(3):  # each worker now keeps the user
            for connection in (a, b):
                status, body = connection.post(ME, token)
                assert status == 200 and body["data"]["me"]["id"]
        assert a.post(LOGOUT, token) == (200, {"data": {"logout": {"ok": True}}})
        status, body = b.post(ME, token)  # the other worker, straight after
        assert status == 401, body
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert a.post(ME, token)[0] == 401
        a.close()
        b.close()
    finally:
        output = stop(server)
    assert server.returncode == 0, output
    # Each worker logs its requests itself (uvicorn's access log is off): one line per request.
    assert output.count('"path": "/graphql", "status": 401') >= 2, output
