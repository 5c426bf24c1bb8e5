"""Pessimistic row locks (what petpos does) against optimistic concurrency (read a version, write
WHERE version = :v, retry on conflict), on one hot order and on one hot SKU, at 8, 32 and 128
concurrent clients, in one run on one throwaway embedded PostgreSQL.

Both variants talk to PostgreSQL straight through asyncpg, with the statements petpos runs written
out by hand, so the comparison is of the concurrency scheme and not of the request path:

    hot order, pessimistic   BEGIN; SELECT ... FROM sale_orders ... FOR NO KEY UPDATE;
                             WITH line AS (INSERT line ... ON CONFLICT DO UPDATE quantity + 1)
                             UPDATE sale_orders SET version = version + 1 ... RETURNING pg_notify(...);
                             COMMIT
    hot order, optimistic    SELECT version FROM sale_orders (no lock); then one statement:
                             WITH bumped AS (UPDATE sale_orders ... WHERE version = :v RETURNING ...)
                             INSERT line ... WHERE EXISTS (bumped) ON CONFLICT DO UPDATE quantity + 1
                             (no row back: someone else changed the order first -> retry)
    hot SKU, pessimistic     BEGIN; SELECT ... FROM products ... FOR UPDATE; UPDATE products SET
                             stock = stock - 1; INSERT INTO stock_movements; COMMIT (a checkout's stock part)
    hot SKU, optimistic      SELECT stock (no lock); then WITH taken AS (UPDATE products SET stock =
                             stock - 1 WHERE stock = :read AND stock >= 1 RETURNING id) INSERT INTO
                             stock_movements ... (the stock value is the version)

Both give a client the retry budget petpos gives a lock timeout (app/domain/uow.py): 3 retries after
the first try, with jittered exponential backoff (5-25 ms x 2^attempt); a client that runs out of
retries is a client-visible failure (petpos's BUSY). Each client has its own connection while
connections last (PostgreSQL's max_connections); beyond that clients share a pool, as a server's
requests share its pool. Latency is that of a successful operation, retries included.

    .venv/bin/python bench/contention.py [--seconds 5] [--clients 8,32,128]

At the end each run is checked exact: the order's version - 1 = units on it = successful adds, and
the SKU's stock went down by exactly the successful takes, one movement each.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.domain.pos.live import listen_url  # noqa: E402
from app.domain.uow import MAX_RETRIES  # noqa: E402
from app.embedded import EmbeddedPostgres  # noqa: E402
from app.migrations import upgrade  # noqa: E402

PRODUCTS = 64
STOCK = 10_000_000
RETRYABLE = (asyncpg.exceptions.LockNotAvailableError, asyncpg.exceptions.DeadlockDetectedError)

LOCK_ORDER = "SELECT id, status FROM sale_orders WHERE id = $1 FOR NO KEY UPDATE"
ADD_LOCKED = """
WITH line AS (
    INSERT INTO sale_order_items (id, order_id, item_type, item_id, mode, name, unit_price, quantity)
    VALUES (gen_random_uuid(), $1, 'PRODUCT', $2, 'STANDARD', 'Chew', 4.99, 1)
    ON CONFLICT (order_id, item_type, item_id) WHERE mode = 'STANDARD'
    DO UPDATE SET quantity = sale_order_items.quantity + excluded.quantity
    RETURNING id)
UPDATE sale_orders SET version = version + 1, updated_at = clock_timestamp()
WHERE id = $1 AND EXISTS (SELECT 1 FROM line)
RETURNING version, pg_notify('sale_order_updated', json_build_object('id', id, 'version', version)::text)
"""
READ_ORDER = "SELECT version, status FROM sale_orders WHERE id = $1"
ADD_IF_VERSION = """
WITH bumped AS (
    UPDATE sale_orders SET version = version + 1, updated_at = clock_timestamp()
    WHERE id = $1 AND version = $3 AND status = 'DRAFT'
    RETURNING id, pg_notify('sale_order_updated', json_build_object('id', id, 'version', version)::text))
INSERT INTO sale_order_items (id, order_id, item_type, item_id, mode, name, unit_price, quantity)
SELECT gen_random_uuid(), $1, 'PRODUCT', $2, 'STANDARD', 'Chew', 4.99, 1 WHERE EXISTS (SELECT 1 FROM bumped)
ON CONFLICT (order_id, item_type, item_id) WHERE mode = 'STANDARD'
DO UPDATE SET quantity = sale_order_items.quantity + excluded.quantity
RETURNING id
"""
LOCK_SKU = "SELECT id, stock FROM products WHERE id = $1 FOR UPDATE"
TAKE_LOCKED = "UPDATE products SET stock = stock - 1 WHERE id = $1"
MOVEMENT = (
    "INSERT INTO stock_movements (id, product_id, delta, reason) VALUES (gen_random_uuid(), $1, -1, 'SALE')"
)
READ_SKU = "SELECT stock FROM products WHERE id = $1"
TAKE_IF_STOCK = """
WITH taken AS (UPDATE products SET stock = stock - 1 WHERE id = $1 AND stock = $2 AND stock >= 1 RETURNING id)
INSERT INTO stock_movements (id, product_id, delta, reason)
SELECT gen_random_uuid(), id, -1, 'SALE' FROM taken
RETURNING id
"""


class Conflict(Exception):
    """The optimistic write found the version changed: retry."""


@dataclass
class Tally:
    ok: int = 0
    retries: int = 0
    failures: int = 0
    latencies: list[float] = field(default_factory=list)


async def hot_order_pessimistic(c: asyncpg.Connection, order: uuid.UUID, product: uuid.UUID) -> None:
    async with c.transaction():
        locked = await c.fetchrow(LOCK_ORDER, order)
        assert locked["status"] == "DRAFT"
        await c.fetchrow(ADD_LOCKED, order, product)


async def hot_order_optimistic(c: asyncpg.Connection, order: uuid.UUID, product: uuid.UUID) -> None:
    version = (await c.fetchrow(READ_ORDER, order))["version"]
    if await c.fetchval(ADD_IF_VERSION, order, product, version) is None:
        raise Conflict


async def hot_sku_pessimistic(c: asyncpg.Connection, sku: uuid.UUID, _: uuid.UUID) -> None:
    async with c.transaction():
        locked = await c.fetchrow(LOCK_SKU, sku)
        assert locked["stock"] >= 1
        await c.execute(TAKE_LOCKED, sku)
        await c.execute(MOVEMENT, sku)


async def hot_sku_optimistic(c: asyncpg.Connection, sku: uuid.UUID, _: uuid.UUID) -> None:
    stock = await c.fetchval(READ_SKU, sku)
    if await c.fetchval(TAKE_IF_STOCK, sku, stock) is None:
        raise Conflict


async def drive(
    pool: asyncpg.Pool, operation, row: uuid.UUID, products, clients: int, seconds: float
) -> Tally:
    tally = Tally()
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        i = n
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            for attempt in range(MAX_RETRIES + 1):
                try:
                    async with pool.acquire() as connection:
                        await operation(connection, row, products[i % len(products)])
                    tally.ok += 1
                    tally.latencies.append(time.perf_counter() - started)
                    break
                except (Conflict, *RETRYABLE):
                    if attempt == MAX_RETRIES:
                        tally.failures += 1
                        break
                    tally.retries += 1
                    await asyncio.sleep(random.uniform(0.005, 0.025) * 2 ** (attempt + 1))
            i += 1

    await asyncio.gather(*[client(n) for n in range(clients)])
    return tally


@dataclass
class Seeded:
    orders: dict[str, uuid.UUID]
    skus: dict[str, uuid.UUID]
    products: list[uuid.UUID]
    staff: uuid.UUID


async def seed(url: str, names: list[str]) -> Seeded:
    c = await asyncpg.connect(url)
    try:
        staff = await c.fetchval(
            "INSERT INTO users (id, email, phone, name, role, password_hash, token_version) "
            "VALUES (gen_random_uuid(), 'bench@petpos.example', '+12025550199', 'Bench', 'STAFF', 'x', 1) "
            "RETURNING id"
        )
        products = [
            await c.fetchval(
                "INSERT INTO products (id, sku, name, category, price, stock) "
                "VALUES (gen_random_uuid(), $1, $1, 'TOY', 4.99, 0) RETURNING id",
                f"BENCH-{i}",
            )
            for i in range(PRODUCTS)
        ]
        orders, skus = {}, {}
        for name in names:
            orders[name] = await c.fetchval(
                "INSERT INTO sale_orders (id, label, created_by) "
                "VALUES (gen_random_uuid(), $1, $2) RETURNING id",
                name,
                staff,
            )
            skus[name] = await c.fetchval(
                "INSERT INTO products (id, sku, name, category, price, stock) "
                "VALUES (gen_random_uuid(), $1, $1, 'TOY', 4.99, $2) RETURNING id",
                f"HOT-{name}",
                STOCK,
            )
            await c.execute(
                "INSERT INTO stock_movements (id, product_id, delta, reason) "
                "VALUES (gen_random_uuid(), $1, $2, 'INITIAL')",
                skus[name],
                STOCK,
            )
        return Seeded(orders, skus, products, staff)
    finally:
        await c.close()


async def exact(url: str, order: uuid.UUID | None, sku: uuid.UUID | None, ok: int) -> bool:
    c = await asyncpg.connect(url)
    try:
        if order is not None:
            version = await c.fetchval("SELECT version FROM sale_orders WHERE id = $1", order)
            units = await c.fetchval("SELECT sum(quantity) FROM sale_order_items WHERE order_id = $1", order)
            return version - 1 == (units or 0) == ok
        stock = await c.fetchval("SELECT stock FROM products WHERE id = $1", sku)
        moved = await c.fetchval(
            "SELECT count(*) FROM stock_movements WHERE product_id = $1 AND reason = 'SALE'", sku
        )
        return STOCK - stock == moved == ok
    finally:
        await c.close()


def percentile(samples: list[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p / 100 * (len(ordered) - 1)))]


async def run(url: str, seconds: float, levels: list[int]) -> bool:
    variants = {
        ("hot order", "pessimistic"): hot_order_pessimistic,
        ("hot order", "optimistic"): hot_order_optimistic,
        ("hot SKU", "pessimistic"): hot_sku_pessimistic,
        ("hot SKU", "optimistic"): hot_sku_optimistic,
    }
    names = [f"{what}/{how}/{n}" for (what, how) in variants for n in levels]
    seeded = await seed(url, names)
    probe = await asyncpg.connect(url)
    limit = int(await probe.fetchval("SHOW max_connections")) - 10
    await probe.close()
    print(f"{seconds:g} s per run; retry budget {MAX_RETRIES} (petpos's); at most {limit} connections\n")
    print(
        f"{'workload':<10} {'scheme':<12} {'clients':>7} {'goodput':>10} {'retries':>8} "
        f"{'failed':>7} {'p50':>9} {'p99':>9}  exact"
    )
    all_exact = True
    for (what, how), operation in variants.items():
        for n in levels:
            name = f"{what}/{how}/{n}"
            row = seeded.orders[name] if what == "hot order" else seeded.skus[name]
            size = min(n, limit)
            pool = await asyncpg.create_pool(
                url, min_size=size, max_size=size, server_settings={"lock_timeout": "5000ms"}
            )
            try:
                started = time.perf_counter()
                tally = await drive(pool, operation, row, seeded.products, n, seconds)
                elapsed = time.perf_counter() - started
            finally:
                await pool.close()
            ok = await exact(
                url, row if what == "hot order" else None, row if what == "hot SKU" else None, tally.ok
            )
            all_exact &= ok
            ms = [1000 * x for x in tally.latencies]
            print(
                f"{what:<10} {how:<12} {n:>7} {tally.ok / elapsed:>8.0f}/s {tally.retries:>8} "
                f"{tally.failures:>7} {percentile(ms, 50):>6.1f} ms {percentile(ms, 99):>6.1f} ms  "
                f"{'yes' if ok else 'NO'}"
            )
    return all_exact


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", default="8,32,128")
    args = parser.parse_args()
    levels = [int(n) for n in args.clients.split(",")]
    with tempfile.TemporaryDirectory(prefix="petpos-contention-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata", delete_on_stop=True)
        try:
            upgrade(server.url)
            ok = asyncio.run(run(listen_url(server.url), args.seconds, levels))
        finally:
            server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
