"""Prometheus metrics served on /metrics.

`petpos serve --workers N` (N > 1) runs N processes, and a scrape reaches whichever of them takes
the connection. So serve gives them one fresh directory (PROMETHEUS_MULTIPROC_DIR, set before the
workers start) where each keeps its values (prometheus_client's multiprocess mode), and a scrape
adds up every worker's, those of workers that have exited included: counters and histograms stay
totals. A gauge counts only the workers alive."""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import suppress
from contextvars import ContextVar
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

from app.processes import alive

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

if os.environ.get(MULTIPROCESS_DIR):
    # A worker that has the pid of one that exited starts its gauges from nothing, not from its files.
    multiprocess.mark_process_dead(os.getpid())

REQUESTS = Counter("petpos_graphql_requests_total", "GraphQL operations", ["operation", "outcome"])
ERRORS = Counter(
    "petpos_graphql_errors_total", "Error codes answered, top-level and in payloads", ["operation", "code"]
)
LATENCY = Histogram("petpos_graphql_latency_seconds", "GraphQL operation latency", ["operation"])
LOCK_RETRIES = Counter(
    "petpos_lock_retries_total", "Units of work rerun after a lock conflict", ["operation", "sqlstate"]
)
STATEMENT_TIMEOUTS = Counter(
    "petpos_statement_timeouts_total", "Units of work ended by the statement timeout (BUSY)", ["operation"]
)
LOCK_WAIT = Histogram("petpos_lock_wait_seconds", "Time spent acquiring row locks", ["table"])
ORDER_ADD_BATCH = Histogram(
    "petpos_order_add_batch_size",
    "Adds to one sale order taken together in one unit of work",
    buckets=(1, 2, 4, 8, 16, 32),
)
ORDER_ADD_UNIT = Histogram(
    "petpos_order_add_unit_orders",
    "Sale orders whose adds went in one unit of work together",
    buckets=(1, 2, 4, 8, 16, 32),
)
POOL_IN_USE = Gauge("petpos_db_pool_checked_out", "Database connections in use", multiprocess_mode="livesum")


def scrape() -> bytes:
    """The text of a scrape: every worker's values added up, or this process's own when it is
    the only one."""
    directory = os.environ.get(MULTIPROCESS_DIR)
    if not directory:
        return generate_latest()
    forget_exited_workers(Path(directory))
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)


def forget_exited_workers(directory: Path) -> None:
    """Drop the gauges of workers no longer running: one killed outright never said it stopped."""
    for live_gauge in directory.glob("gauge_live*_*.db"):
        pid = int(live_gauge.stem.rpartition("_")[2])
        if not alive(pid):
            with suppress(FileNotFoundError):  # another worker's scrape got there first
                multiprocess.mark_process_dead(pid, str(directory))


# The codes of the payload errors of the operation running: the operation's metrics extension sets
# a list, the mutation wrapper adds to it (a payload error is an answer, not an exception).
PAYLOAD_CODES: ContextVar[list[str] | None] = ContextVar("payload_codes", default=None)


def payload_errors(codes: Iterable[str]) -> None:
    found = PAYLOAD_CODES.get()
    if found is not None:
        found.extend(codes)
