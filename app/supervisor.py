"""`petpos serve` keeps its embedded PostgreSQL running: if the postmaster exits (a crash, an
OOM kill, `pg_ctl stop`), it is started again on the same data directory and socket, and the
workers' pools reconnect on their own (app/db/connectivity.py)."""

from __future__ import annotations

import logging
import threading
import time

from app.embedded import EmbeddedPostgres

log = logging.getLogger("petpos.supervisor")


class PostgresSupervisor:
    """A thread that checks the postmaster every `interval` seconds and starts it again once it
    has been gone for `grace` seconds (so an operator's `pg_ctl restart` finishes on its own)."""

    def __init__(self, embedded: EmbeddedPostgres, *, interval: float = 0.2, grace: float = 1.0) -> None:
        self.embedded, self.interval, self.grace = embedded, interval, grace
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="postgres-supervisor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _watch(self) -> None:
        gone_since: float | None = None
        while not self._stopping.wait(self.interval):
            if self.embedded.running():
                gone_since = None
                continue
            now = time.monotonic()
            if gone_since is None:
                log.warning("the embedded PostgreSQL is not running")
                gone_since = now
            if now - gone_since < self.grace:
                continue
            try:
                self.embedded.start()
            except Exception:  # noqa: BLE001 - keep watching; the next round tries again
                log.exception("could not restart the embedded PostgreSQL")
                continue
            log.warning("restarted the embedded PostgreSQL after %.1f s", time.monotonic() - gone_since)
            gone_since = None
