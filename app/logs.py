"""The log's line format, and the request id a line carries when it is written while a request is
served: a warning deep in a unit of work (a lock given up, a statement timeout) then names the
request its client was answered for, as the X-Request-ID it got."""

from __future__ import annotations

import logging
from contextvars import ContextVar

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s%(request)s"

# Set by app/main.py RequestLog for the request's whole handling, tasks it starts included.
REQUEST_ID: ContextVar[str | None] = ContextVar("petpos_request_id", default=None)


# `extra` of a line that holds the request id itself (the request and operation lines, an
# internal error's): no suffix for it.
NAMES_REQUEST = {"names_request": True}


class RequestIdFilter(logging.Filter):
    """Adds ` (request <id>)` to a line written while serving a request, unless it names the id
    already (NAMES_REQUEST). Tasks that serve no one request (a batch of adds, the LISTEN
    connection's) start with a fresh context, so they name none."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        named = request_id is None or getattr(record, "names_request", False)
        record.request = "" if named else f" (request {request_id})"
        return True


def configure() -> None:
    """Root logging at INFO in this format, where no handler is set up yet (the CLI, or a worker
    process of `serve --workers N`, which starts bare)."""
    if logging.getLogger().handlers:
        return
    logging.basicConfig(level=logging.INFO, format=FORMAT)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdFilter())
