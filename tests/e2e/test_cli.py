"""The `petpos` command against a real database."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

import asyncpg
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db.engine import Database
from app.domain.taxes import service as taxes
from app.domain.uow import run_unit
from app.settings import async_url, plain_url
from tests.conftest import TEST_SECRET, make_settings, scratch_database
from tests.pgbouncer import pgbouncer

PETPOS = Path(sys.executable).parent / "petpos"


def petpos(database_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "PETPOS_SECRET_KEY": TEST_SECRET}
    return subprocess.run(
        [str(PETPOS), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


async def test_create_user_reads_the_password_from_stdin_and_the_account_signs_in(database_url, gql):
    result = petpos(
        database_url,
        "create-user",
        "--email",
        "Boss@Example.com",
        "--phone",
        "+1 202 555 0170",
        "--name",
        "The Boss",
        "--role",
        "ADMIN",
        stdin="a strong password\r\n",  # a file a Windows editor wrote: the \r is not the password's
    )
    assert result.returncode == 0, result.stderr
    assert "Created ADMIN boss@example.com" in result.stdout
    login = await gql(
        'mutation { login(email: "boss@example.com", password: "a strong password") { user { role } } }'
    )
    assert login["data"]["login"]["user"]["role"] == "ADMIN"

    again = petpos(
        database_url,
        "create-user",
        "--email",
        "boss@example.com",
        "--phone",
        "+1 202 555 0171",
        "--name",
        "Twin",
        "--role",
        "STAFF",
        "--password",
        "another password",
    )
    assert again.returncode == 1 and "email" in again.stderr


async def test_create_user_rejects_bad_input_with_a_clear_message(database_url):
    result = petpos(
        database_url,
        "create-user",
        "--email",
        "x@example.com",
        "--phone",
        "nope",
        "--name",
        "X",
        "--password",
        "short",
    )
    assert result.returncode == 1
    assert "phone" in result.stderr and "password" in result.stderr


async def test_migrate_and_demo_seed_are_idempotent(database_url, gql):
    assert petpos(database_url, "migrate").returncode == 0
    for _ in range(2):
        seeded = petpos(database_url, "seed", "--demo")
        assert seeded.returncode == 0, seeded.stderr
    login = await gql(
        'mutation { login(email: "staff@petpos.example", password: "petpos-staff") { user { role } } }'
    )
    assert login["data"]["login"]["user"]["role"] == "STAFF"
    # The shop's demo data, once: seven products with their opening movements, three services.
    shop = await gql("{ products(first: 100) { edges { node { sku stock } } } services { name } }")
    assert len(shop["data"]["products"]["edges"]) == 7 and len(shop["data"]["services"]) == 3
    token = (
        await gql('mutation { login(email: "staff@petpos.example", password: "petpos-staff") { token } }')
    )["data"]["login"]["token"]
    kibble = next(
        e["node"] for e in shop["data"]["products"]["edges"] if e["node"]["sku"] == "DOG-KIBBLE-5KG"
    )
    product = await gql('{ productBySku(sku: "dog-kibble-5kg") { id } }')
    moves = await gql(
        "query($p: ID!) { stockMovements(productId: $p) { delta reason } }",
        {"p": product["data"]["productBySku"]["id"]},
        token=token,
    )
    # Its opening stock, and the demo customer's earlier order (two bags), each once.
    assert moves["data"]["stockMovements"] == [
        {"delta": -2, "reason": "SALE"},
        {"delta": 40, "reason": "INITIAL"},
    ]
    assert kibble["stock"] == 38


def test_export_schema_prints_the_sdl():
    result = subprocess.run([str(PETPOS), "export-schema"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "type Mutation" in result.stdout and "saleOrderUpdated" in result.stdout


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "command",
    ["serve", "migrate", "seed --demo", "create-user", "set-role", "check", "prune", "backup", "restore"],
)
def test_a_database_that_cannot_be_reached_is_named_without_its_password(command, database_url, tmp_path):
    url = f"postgresql+asyncpg://petpos:hunter2-secret@127.0.0.1:{_closed_port()}/petpos"
    args = command.split()
    file = tmp_path / "shop.petpos"
    if args[0] == "create-user":
        args += ["--email", "a@example.com", "--phone", "+1 202 555 0170", "--name", "A"]
        args += ["--password", "a strong password"]
    if args[0] == "set-role":
        args += ["--email", "a@example.com", "--role", "STAFF"]
    if args[0] == "restore":  # a good backup, so that the database is what stops it
        made = petpos(database_url, "backup", str(file))
        assert made.returncode == 0, made.stderr
    if args[0] in ("backup", "restore"):
        args.append(str(file))
    result = petpos(url, *args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"petpos {args[0]}: cannot reach the database at postgresql+asyncpg://petpos:***@127.0.0.1:"
        f"{make_url(url).port}/petpos"
    )
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr + result.stdout
    assert file.exists() == (args[0] == "restore")  # a backup that could not start leaves no file


@pytest.mark.parametrize("command", ["migrate", "backup", "restore"])
def test_a_silent_database_is_out_of_reach_as_soon_as_for_other_commands(command, database_url, tmp_path):
    """A server that takes the connection and never answers (a stopped postmaster): these three
    waited out asyncpg's own one-minute connect timeout, where the others give up after 5 s. The
    subprocess timeout is a guard against that wait, not a measure."""
    file = tmp_path / "shop.petpos"
    if command == "restore":
        assert petpos(database_url, "backup", str(file)).returncode == 0
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never accepts nor answers
        url = f"postgresql://petpos@127.0.0.1:{silent.getsockname()[1]}/petpos"
        env = {**os.environ, "DATABASE_URL": url, "PETPOS_SECRET_KEY": TEST_SECRET}
        args = [str(PETPOS), command] + ([str(file)] if command != "migrate" else [])
        result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=40)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"petpos {command}: cannot reach the database")


def test_a_database_that_does_not_exist_is_named(database_url):
    missing = make_url(database_url).set(database="petpos_no_such_database")
    result = petpos(missing.render_as_string(hide_password=False), "migrate")
    assert result.returncode == 2
    problem = result.stderr.splitlines()[-1]
    assert problem.startswith("petpos migrate: the database at postgresql")
    assert "/petpos_no_such_database" in problem and problem.endswith(" does not exist")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://petpos:hunter2-secret@db:port/petpos",
        "postgresql://petpos:hunter2-secret@db:99999999/petpos",
        "mysql://petpos:hunter2-secret@db/petpos",
    ],
)
def test_a_malformed_database_url_is_refused_at_start_without_repeating_it(url):
    result = petpos(url, "migrate")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Invalid settings: DATABASE_URL must be a postgresql:// URL, like postgresql://user:password@host:5432/petpos"
    )
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://petpos:hunter2@secret@127.0.0.1:5432/petpos",
        "postgresql://petpos:hunter2:with@secret/part@127.0.0.1:5432/petpos",  # the rest: a database
    ],
)
def test_an_unescaped_at_sign_in_the_password_is_refused_at_start_without_showing_it(url):
    """The rest of the password would be taken for the host (or, after a /, the database), and
    shown as such in every error."""
    result = petpos(url, "migrate")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Invalid settings: DATABASE_URL: write an @ in the user name or password as %40, a / as %2F"
    )
    assert "Traceback" not in result.stderr and "secret" not in result.stderr and "part" not in result.stderr


async def test_a_user_that_may_not_create_the_tables_is_told_to_own_the_database(db, database_url):
    """A database created for the user, but not owned by it (PostgreSQL 15 on: no CREATE in its
    schema public): migrate said so in a traceback."""
    role = f"petpos_guest_{uuid.uuid4().hex[:8]}"
    async with db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'guest-password'"))
        try:
            async with scratch_database(db, database_url) as owned_by_another:
                url = make_url(owned_by_another).set(username=role, password="guest-password")
                result = petpos(url.render_as_string(hide_password=False), "migrate")
        finally:
            await autocommit.execute(text(f"DROP ROLE {role}"))
    assert result.returncode == 2, result.stderr
    told = "refused a privilege the command needs: the user must own the database and its tables"
    assert told in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr and "guest-password" not in result.stderr


def test_migrate_through_the_transaction_pooler_is_refused_in_one_line(database_url):
    env = {"DATABASE_TRANSACTION_POOLER": "true", "DATABASE_LISTEN_URL": plain_url(database_url)}
    result = subprocess.run(
        [str(PETPOS), "migrate"],
        env={**os.environ, "DATABASE_URL": database_url, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("petpos migrate: run it on a direct connection")


def test_create_user_refuses_bytes_its_encoding_cannot_read(database_url):
    # A Latin-1 é on a UTF-8 command line reaches Python as a lone surrogate.
    result = petpos(
        database_url,
        "create-user",
        "--email",
        "cafe@example.com",
        "--phone",
        "+1 202 555 0170",
        "--name",
        "Caf\udce9",
        "--password",
        "a strong password",
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip().splitlines()[-1] == "--name: a string may not contain a lone surrogate (U+DCE9)"
    )


@pytest.mark.parametrize(("option", "value"), [("--port", "70000"), ("--port", "-1"), ("--workers", "0")])
def test_serve_refuses_a_port_or_worker_count_out_of_range(option, value):
    result = petpos("postgresql://unused@127.0.0.1/petpos", "serve", option, value)
    assert result.returncode == 2
    assert f"argument {option}: {value} is not from" in result.stderr
    assert "Traceback" not in result.stderr


async def test_demo_seed_over_a_shop_holding_a_demo_name_says_so(database_url, db):
    async def sales_tax(uow):
        return await taxes.create_tax_rate(uow, taxes.prepare_tax_rate(name="Sales tax", rate=Decimal("5")))

    await run_unit(db.sessions, sales_tax, lock_timeout_ms=3000)
    result = petpos(database_url, "seed", "--demo")
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("petpos seed: the demo data does not fit this database: ")
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "setting, value, problem",
    [
        (
            "PETPOS_DEFAULT_PHONE_REGION",
            "XX",
            "PETPOS_DEFAULT_PHONE_REGION must be a region code, like US or GB",
        ),
        (
            "PETPOS_CURRENCY",
            "dollars",
            "PETPOS_CURRENCY must be an ISO 4217 code of three letters, like USD or EUR",
        ),
    ],
)
def test_a_phone_region_or_currency_that_cannot_be_is_refused_at_start(database_url, setting, value, problem):
    """Unchecked, the server started and then refused every local phone number, or showed the text
    as every amount's currency."""
    env = {**os.environ, "DATABASE_URL": database_url, "PETPOS_SECRET_KEY": TEST_SECRET, setting: value}
    result = subprocess.run([str(PETPOS), "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"Invalid settings: {problem}"


def test_the_store_name_is_measured_after_trimming(database_url):
    """A 200-character name with a space after it was refused as longer than 200."""
    assert make_settings(database_url, store_name=" " + "P" * 200 + " ").store_name == "P" * 200
    with pytest.raises(ValidationError, match="PETPOS_STORE_NAME must be at most 200 characters"):
        make_settings(database_url, store_name="P" * 201)


def test_the_store_time_zone_is_read_trimmed_and_empty_is_utc(database_url):
    assert make_settings(database_url, store_timezone=" Europe/Paris ").store_timezone == "Europe/Paris"
    assert make_settings(database_url, store_timezone="").store_timezone == "UTC"


def test_a_phone_region_and_currency_in_lower_case_are_read(database_url):
    settings = make_settings(database_url, default_phone_region=" gb ", currency="eur")
    assert (settings.default_phone_region, settings.currency) == ("GB", "EUR")


@pytest.mark.parametrize(
    "setting, value, problem",
    [
        ("PETPOS_POOL_SIZE", "0", "PETPOS_POOL_SIZE: Input should be greater than or equal to 1"),
        ("PETPOS_LOCK_TIMEOUT_MS", "soon", "PETPOS_LOCK_TIMEOUT_MS: Input should be a valid integer"),
        ("PETPOS_ENV", "Production", "PETPOS_ENV: Input should be 'development' or 'production'"),
        ("PETPOS_STORE_NAME", "   ", "PETPOS_STORE_NAME must hold a visible name on one line"),
        ("PETPOS_STORE_NAME", "Pets\x1b[2J", "PETPOS_STORE_NAME must hold a visible name on one line"),
        ("PETPOS_OUTBOX_POLL_SECONDS", "0.0001", "PETPOS_OUTBOX_POLL_SECONDS: Input should be greater than"),
        *(
            ("PETPOS_STORE_TIMEZONE", zone, "PETPOS_STORE_TIMEZONE must be an IANA time zone, like")
            for zone in (
                *("Mars/Olympus_Mons", "EST+5", "../../etc/passwd", "/usr/share/zoneinfo/UTC"),
                *("America", "__pycache__", "x" * 300, "localtime", "Factory"),  # a folder, not a zone
            )
        ),
    ],
)
def test_a_setting_out_of_range_is_named_in_the_refusal(database_url, setting, value, problem):
    env = {**os.environ, "DATABASE_URL": database_url, "PETPOS_SECRET_KEY": TEST_SECRET, setting: value}
    result = subprocess.run([str(PETPOS), "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"Invalid settings: {problem}")


def with_query(url: str, **parameters: str) -> str:
    return make_url(url).update_query_dict(parameters).render_as_string(hide_password=False)


async def test_a_database_url_with_libpq_sslmode_is_read_as_asyncpg_reads_it(database_url, db):
    """Hosted databases' URLs carry `sslmode`, which asyncpg.connect does not take by that name."""
    url = with_query(database_url, sslmode="disable")
    migrated = petpos(url, "migrate")
    assert (migrated.returncode, migrated.stderr.count("Traceback")) == (0, 0), migrated.stderr
    settings = make_settings(url)
    listener = await asyncpg.connect(plain_url(settings.database_url))  # LISTEN's own connection
    try:
        assert await listener.fetchval("SELECT 1") == 1
    finally:
        await listener.close()
    database = Database(settings)
    try:
        async with database.engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await database.dispose()


@pytest.mark.parametrize(
    "parameters, problem",
    [
        ({"foo": "bar"}, "DATABASE_URL takes no parameter foo"),
        ({"application_name": "pos"}, "DATABASE_URL takes no parameter application_name"),
        ({"sslmode": "sometimes"}, "DATABASE_URL's sslmode is one of disable, allow, prefer, require"),
    ],
)
def test_a_database_url_parameter_the_driver_cannot_take_is_refused(database_url, parameters, problem):
    result = petpos(with_query(database_url, **parameters), "migrate")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"Invalid settings: {problem}")
    assert "Traceback" not in result.stderr


def test_a_transaction_pooler_without_a_database_url_is_refused_at_start(tmp_path):
    """The embedded PostgreSQL goes through no pooler: serve announced itself, then every worker died."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"DATABASE_TRANSACTION_POOLER": "true", "PETPOS_DATA_DIR": str(tmp_path)}
    result = subprocess.run([str(PETPOS), "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    refusal = result.stderr.strip().splitlines()[-1]
    assert refusal.startswith("Invalid settings: DATABASE_TRANSACTION_POOLER is for")
    assert "Traceback" not in result.stderr and not (tmp_path / "pgdata").exists()


@pytest.mark.parametrize(
    "command",
    [
        (
            "create-user",
            "--email",
            "a@example.com",
            "--phone",
            "+12025550170",
            "--name",
            "A",
            "--password",
            "x" * 12,
        ),
        ("seed", "--demo"),
        ("set-role", "--email", "a@example.com", "--role", "STAFF"),
        ("prune",),
    ],
    ids=["create-user", "seed", "set-role", "prune"],
)
async def test_a_command_that_writes_rows_refuses_a_database_not_migrated_in_one_line(
    database_url, db, command
):
    async with scratch_database(db, database_url) as empty_url:
        result = petpos(empty_url, *command)
    assert (result.returncode, result.stderr.strip().splitlines()[-1]) == (
        2,
        "The database is not at the latest migration: run `petpos migrate` first.",
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("limit", ["-1", "-3", "1000001", "x"])
def test_check_refuses_a_limit_that_is_not_a_count(database_url, limit):
    """A negative limit sliced the list of violations from its end and hid them."""
    result = petpos(database_url, "check", "--limit", limit)
    assert result.returncode == 2 and "argument --limit" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_on_a_taken_port_says_so_before_announcing_itself(database_url):
    """It printed "petpos on http://…", started up, then failed to bind and exited 3."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = petpos(database_url, "serve", "--port", str(port))
    assert (result.returncode, result.stderr.strip().splitlines()[-1]) == (
        1,
        f"petpos serve: cannot listen on 127.0.0.1:{port}: Address already in use",
    )
    assert "petpos on" not in result.stdout and "Traceback" not in result.stderr


def test_database_url_parameters_are_renamed_for_each_reader_whatever_the_password_holds():
    """A password with a "#" hid the query from a plain URL parser: sslmode reached asyncpg.connect."""
    url = "postgresql://u:pa#ss?@db.example/shop?sslmode=require&prepared_statement_cache_size=0"
    engine_url, listen_url = make_url(async_url(url)), make_url(plain_url(url))
    assert (engine_url.password, dict(engine_url.query)) == (
        "pa#ss?",
        {"ssl": "require", "prepared_statement_cache_size": "0"},
    )
    assert (listen_url.password, dict(listen_url.query)) == ("pa#ss?", {"sslmode": "require"})


def test_sqlalchemys_own_statement_cache_parameter_is_taken(database_url, tmp_path):
    """SQLAlchemy's recipe for PgBouncer; pg_dump is not given it."""
    url = with_query(database_url, prepared_statement_cache_size="0")
    migrated = petpos(url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    saved = petpos(url, "backup", str(tmp_path / "shop.petpos"))
    assert saved.returncode == 0, saved.stderr


def embedded(data_dir: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    """A command on the embedded PostgreSQL in `data_dir` (no DATABASE_URL)."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"PETPOS_DATA_DIR": str(data_dir), "PETPOS_SECRET_KEY": TEST_SECRET, **settings}
    return subprocess.run([str(PETPOS), *args], env=env, capture_output=True, text=True, timeout=120)


def test_output_that_cannot_be_written_is_said_so_not_taken_for_the_database(database_url):
    """A full disk under stdout was "cannot reach the database". Block-buffered, as from cron (the
    write then fails only when the buffer is flushed: at exit, it was a traceback)."""
    env = {**os.environ, "DATABASE_URL": database_url, "PETPOS_SECRET_KEY": TEST_SECRET}
    env.pop("PYTHONUNBUFFERED", None)
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [str(PETPOS), "check"], env=env, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120
        )
    assert (result.returncode, result.stderr) == (
        2,
        "petpos check: cannot write its output: No space left on device\n",
    )
    # A reader that has gone (`petpos check | head -0`) ends it quietly, as for any command.
    read, write = os.pipe()
    os.close(read)
    try:
        gone = subprocess.run(
            [str(PETPOS), "check"], env=env, stdout=write, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(write)
    assert (gone.returncode, gone.stderr) == (141, "")


def test_check_that_cannot_start_for_its_settings_exits_2_not_the_1_of_a_violation(tmp_path):
    result = embedded(tmp_path, "check", PETPOS_POOL_SIZE="-1")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("Invalid settings: PETPOS_POOL_SIZE: ")
    assert "Traceback" not in result.stderr


def test_an_embedded_postgres_that_does_not_start_is_one_line_and_exit_2():
    """pg_ctl cannot start PostgreSQL whose socket is to sit under a path with a space (the wheel's
    command splits it): a short path, so the socket is in the data directory."""
    data_dir = Path(tempfile.mkdtemp(prefix="petpos ", dir="/tmp"))
    try:
        result = embedded(data_dir, "migrate")
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    pgdata = (data_dir / "pgdata").resolve()
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # not the wheel's log dump
    assert result.stderr.strip().splitlines()[-1] == (
        f"petpos migrate: the embedded PostgreSQL on {pgdata} did not start (a path with a space can "
        f"be why); its log: {pgdata / 'log'}"
    )
    assert "Traceback" not in result.stderr


def test_serve_refuses_an_empty_host_which_would_listen_on_every_interface(tmp_path):
    result = embedded(tmp_path, "serve", "--host", " ")
    assert result.returncode == 2
    assert "argument --host: name an address (0.0.0.0 listens on every interface)" in result.stderr
    assert not (tmp_path / "pgdata").exists()


def test_a_transaction_pooler_not_declared_is_named_not_taken_for_a_database_out_of_reach(database_url):
    """PgBouncer refuses the settings petpos sends at connect (lock_timeout …) with a protocol
    error; the command said it could not reach the database."""
    with pgbouncer(database_url) as bounced:
        result = petpos(bounced, "check")
    assert result.returncode == 2, result.stderr
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(
            "refused the connection's settings: behind a transaction pooler (PgBouncer), set "
            "DATABASE_TRANSACTION_POOLER=true"
        )
    )
