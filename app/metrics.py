"""Prometheus metrics served on /metrics."""

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("petpos_graphql_requests_total", "GraphQL operations", ["operation", "outcome"])
LATENCY = Histogram("petpos_graphql_latency_seconds", "GraphQL operation latency", ["operation"])
LOCK_RETRIES = Counter(
    "petpos_lock_retries_total", "Units of work rerun after a lock conflict", ["operation", "sqlstate"]
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
POOL_IN_USE = Gauge("petpos_db_pool_checked_out", "Database connections in use")
