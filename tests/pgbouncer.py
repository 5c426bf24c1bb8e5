"""PgBouncer (Debian's `pgbouncer` package) in transaction pooling mode in front of the test
database: few server connections shared by many clients, so consecutive transactions of one
client run on different server connections, and a server connection serves many clients."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.e2e.required import program
from tests.ports import free_port
from tests.replica import SERVER_USER


@contextmanager
def pgbouncer(database_url: str, *, server_connections: int = 3) -> Iterator[str]:
    """The URL of a transaction-pooling PgBouncer in front of `database_url`."""
    binary = program("pgbouncer", "apt-get install pgbouncer")
    target = make_url(database_url)
    host = target.query.get("host") or target.host or "localhost"
    port = free_port()
    directory = Path(tempfile.mkdtemp(prefix="petpos-pgbouncer-"))
    directory.chmod(0o755)  # PgBouncer refuses to run as root: it runs as the server's user
    config = directory / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"{target.database} = host={host} port={target.port or 5432} dbname={target.database} "
        f"user={target.username}"
        + (f" password={target.password}" if target.password else "")
        + "\n\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        "auth_type = any\npool_mode = transaction\n"
        f"default_pool_size = {server_connections}\nmin_pool_size = 0\nreserve_pool_size = 0\n"
        "max_client_conn = 1000\n"
    )
    config.chmod(0o644)
    command = [binary, *(["-u", SERVER_USER] if os.geteuid() == 0 else []), str(config)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise AssertionError(
                    "pgbouncer exited:\n" + (process.stdout.read() if process.stdout else "")
                )
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)  # polling a process that starts up, not ordering a race
        else:
            raise AssertionError("pgbouncer did not start listening")
        yield f"postgresql://{target.username}@127.0.0.1:{port}/{target.database}"
    finally:
        process.terminate()
        process.communicate(timeout=30)
        config.unlink()
        directory.rmdir()
