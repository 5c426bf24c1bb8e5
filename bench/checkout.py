"""POS checkouts per second, with the ceiling of the one row every sale queues on.

Starts a throwaway embedded PostgreSQL, migrates it, seeds a staff user, 64 products and
ORDERS DRAFT orders of one line each (a product picked round-robin, so checkouts rarely meet on
a product), starts `petpos serve --workers 2` in production mode and drives it with wrk: every
request pays a different order by card (`checkoutSaleOrder`, its own idempotency key). In the
same run, asyncpg straight on PostgreSQL measures what one shared row allows: 32 connections
each drawing from the sale number counter (`app/domain/sales/numbers.py`) and committing.

It then checks the sales are exact: as many sales as the clients saw succeed, numbered
S-000001 up to their count with no gap and no repeat.

Setup (Debian): `apt-get install -y wrk`. Then, from the repository:

    .venv/bin/python bench/checkout.py [--seconds 5] [--connections 32] [--workers 2]

Against older code: a worktree of it, with this file copied in and PYTHONPATH set to it.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db.engine import Database  # noqa: E402
from app.domain.pos.live import listen_url  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench.hot_order import (  # noqa: E402
    HEADER,
    LUA_DONE,
    PRODUCTS,
    THREADS,
    bench_arguments,
    drive,
    require_wrk,
    row,
    serving,
    staff_and_products,
    throwaway_database,
    token_of,
    wrk,
)

ORDERS = 12000
PAY = (
    "mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) "
    "{ sale { id number total { amount } } errors { code } } }"
)

# wrk's Lua: thread t of T sends bodies t, t + T, t + 2T, … so no order is paid twice.
LUA = (
    """
local bodies = {%(bodies)s}
ok = 0
threads = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
function setup(thread)
  thread:set("first", #threads)
  table.insert(threads, thread)
end
function init(args)
  n = first
  step = %(threads)d
end
function request()
  local body = bodies[n + 1] or bodies[#bodies]
  n = n + step
  return wrk.format(nil, "/graphql", nil, body)
end
function response(status, headers, body)
  if status == 200 and string.find(body, '"errors":[]', 1, true) then
    ok = ok + 1
  end
end
"""
    + LUA_DONE
)


async def seed(settings: Settings, url: str) -> tuple[str, list[str]]:
    """(staff token, the DRAFT orders' ids)."""
    db = Database(settings, url)
    try:
        staff, _ = await staff_and_products(db, stock=1_000_000)
    finally:
        await db.dispose()
    connection = await asyncpg.connect(listen_url(url))
    try:
        async with connection.transaction():
            orders = await connection.fetch(
                "INSERT INTO sale_orders (id, label, created_by) "
                "SELECT gen_random_uuid(), 'B' || g, $1 FROM generate_series(1, $2) g RETURNING id",
                staff.id,
                ORDERS,
            )
            await connection.execute(
                """
                INSERT INTO sale_order_items
                    (id, order_id, item_type, item_id, mode, name, unit_price, quantity)
                SELECT gen_random_uuid(), o.id, 'PRODUCT', p.id, 'STANDARD', p.name, p.price, 1
                FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM sale_orders) o
                JOIN (SELECT id, name, price, row_number() OVER (ORDER BY id) - 1 AS n FROM products) p
                  ON p.n = o.n % $1
                """,
                PRODUCTS,
            )
    finally:
        await connection.close()
    return token_of(staff), [str(o["id"]) for o in orders]


def pay_body(order_id: str) -> str:
    variables = {"i": {"orderId": order_id, "idempotencyKey": order_id, "paymentMethod": "CARD"}}
    return json.dumps({"query": PAY, "variables": variables})


def script(bodies: list[str], token: str) -> str:
    return LUA % {
        "bodies": ",\n".join(f"[==[{body}]==]" for body in bodies),
        "token": token,
        "threads": THREADS,
    }


async def counter_ceiling(url: str, connections: int, seconds: float) -> dict:
    """Draw from the sale number counter and commit, on `connections` connections at once (in a
    table of its own, so the sales' numbers stay as they are)."""
    setup = await asyncpg.connect(url)
    await setup.execute("CREATE TABLE bench_numbers (id smallint PRIMARY KEY, last bigint NOT NULL)")
    await setup.close()
    pool = [await asyncpg.connect(url) for _ in range(connections)]
    draw = (
        "INSERT INTO bench_numbers (id, last) VALUES (1, 1) "
        "ON CONFLICT (id) DO UPDATE SET last = bench_numbers.last + 1 RETURNING last"
    )
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def client(connection: asyncpg.Connection, _: int) -> None:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            async with connection.transaction():
                await connection.fetchval(draw)
            latencies.append(time.perf_counter() - started)

    return await drive(pool, client, latencies)


async def sales_made(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        return [r["number"] for r in await connection.fetch("SELECT number FROM sales ORDER BY number")]
    finally:
        await connection.close()


def main() -> int:
    args = bench_arguments(__doc__, seconds=5).parse_args()
    require_wrk()
    c, seconds = args.connections, args.seconds

    with throwaway_database() as (url, settings):
        token, orders = asyncio.run(seed(settings, url))
        with serving(url, settings, args.workers) as (port, server):
            print(
                f"petpos serve --workers {args.workers} (production); wrk -t{THREADS} -c{c} -d{seconds:g}s; "
                f"{os.cpu_count()} CPUs\n"
            )
            warm, measured = orders[:400], orders[400:]
            wrk(
                port, script([pay_body(o) for o in warm], token), c, 1, server.pid
            )  # pools, caches, statements
            ceiling = asyncio.run(counter_ceiling(listen_url(url), c, seconds))
            before = len(asyncio.run(sales_made(url)))
            run = wrk(port, script([pay_body(o) for o in measured], token), c, seconds, server.pid)
            time.sleep(0.5)  # requests in flight at wrk's stop finish
            numbers = asyncio.run(sales_made(url))

    print(HEADER)
    print(row(f"raw asyncpg, draw a number + commit ({c})", ceiling))
    print(row(f"checkoutSaleOrder, card, 64 products ({c})", run))
    if run["requests"] >= len(measured):
        print(f"\nthe run sent {run['requests']} requests for {len(measured)} orders: raise ORDERS")
        return 1
    made = len(numbers) - before
    gap_free = numbers == [f"S-{n:06d}" for n in range(1, len(numbers) + 1)]
    print(f"\ncheckout / counter ceiling {run['rate'] / ceiling['rate']:.2f}")
    print(
        f"sales: this run made {made}, clients saw {run['ok']} succeed; numbers S-000001 to "
        f"S-{len(numbers):06d} {'with no gap or repeat' if gap_free else 'NOT gap-free'}"
    )
    # Requests in flight at wrk's stop may still make their sale.
    return 0 if gap_free and run["ok"] == run["requests"] and 0 <= made - run["ok"] <= c else 1


if __name__ == "__main__":
    sys.exit(main())
