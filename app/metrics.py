"""Prometheus metrics served on /metrics."""

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("petpos_graphql_requests_total", "GraphQL operations", ["operation", "outcome"])
LATENCY = Histogram("petpos_graphql_latency_seconds", "GraphQL operation latency", ["operation"])
LOCK_RETRIES = Counter(
    "petpos_lock_retries_total", "Units of work rerun after a lock conflict", ["operation", "sqlstate"]
)
LOCK_WAIT = Histogram("petpos_lock_wait_seconds", "Time spent acquiring row locks", ["table"])
POOL_IN_USE = Gauge("petpos_db_pool_checked_out", "Database connections in use")
