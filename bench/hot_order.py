"""The request path against the database ceiling, measured side by side in one run.

Starts a throwaway embedded PostgreSQL, migrates and seeds it (a staff user, PRODUCTS products,
one hot order and PRODUCTS spread orders), starts `petpos serve --workers 2` in production mode
and drives it with wrk (32 connections; each add picks one of the 64 products so no line
reaches its 999-unit cap; the response asks for `order { id version total { amount } }`):

    raw asyncpg     SELECT ... FOR UPDATE + UPDATE + COMMIT on one row, 32 connections
    hot order       addSaleOrderItem, every connection on the same order
    spread orders   addSaleOrderItem, the connections spread over 64 orders
    __typename      `{ __typename }`, anonymous
    me              `{ me { id } }`, signed in

then prints the ratios of the goals in docs/performance.md and checks the hot order is exact:
its version - 1 equals the units on it (no add lost or counted twice), and the units added
match the adds the clients saw succeed (give or take the requests in flight at wrk's stop); and
over the spread orders, that each version the run added came with one unit, as many as the
clients saw succeed.

Setup (Debian): `apt-get install -y wrk`. Then, from the repository:

    .venv/bin/python bench/hot_order.py [--seconds 10] [--connections 32] [--workers 2]

wrk, the server and PostgreSQL share the machine: compare the ratios of one run, not absolute
numbers across runs or machines.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db.engine import Database  # noqa: E402
from app.domain.accounts import credentials  # noqa: E402
from app.domain.accounts import service as accounts  # noqa: E402
from app.domain.catalog import service as catalog  # noqa: E402
from app.domain.pos import orders  # noqa: E402
from app.domain.pos.items import ADD_LINES  # noqa: E402
from app.domain.pos.live import CHANNEL, listen_url  # noqa: E402
from app.domain.uow import run_unit  # noqa: E402
from app.embedded import EmbeddedPostgres  # noqa: E402
from app.migrations import upgrade  # noqa: E402
from app.settings import Settings  # noqa: E402

SECRET = "bench-secret-key-not-for-production-0123456789abcdef"
PRODUCTS = 64
ADD = (
    "mutation($i: AddSaleOrderItemInput!) { addSaleOrderItem(input: $i) "
    "{ order { id version total { amount } } errors { code } } }"
)

THREADS = 2  # wrk threads
# wrk's Lua, last: the result line, summed over the threads (each counts its successes in `ok`
# and registers itself in `threads`).
LUA_DONE = """
function done(summary, latency, requests)
  local total_ok = 0
  for _, thread in ipairs(threads) do total_ok = total_ok + thread:get("ok") end
  io.write(string.format('RESULT {"requests": %%d, "ok": %%d, "seconds": %%f, "p50": %%f, "p99": %%f, '
    .. '"max": %%f, "non2xx": %%d, "socket_errors": %%d}\\n',
    summary.requests, total_ok, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""
# wrk's Lua: rotate over prepared bodies; count answers whose payload has no error.
LUA = (
    """
local bodies = {%(bodies)s}
n = 0
ok = 0
threads = {}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
%(auth)s
function setup(thread)
  thread:set("offset", #threads * 32)
  table.insert(threads, thread)
end
function init(args)
  n = offset
end
function request()
  n = n + 1
  return wrk.format(nil, "/graphql", nil, bodies[(n %% #bodies) + 1])
end
function response(status, headers, body)
  if status == 200 and not string.find(body, '"errors":[{', 1, true)
     and not string.find(body, '"errors": [{', 1, true) then
    ok = ok + 1
  end
end
"""
    + LUA_DONE
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def staff_and_products(db: Database, stock: int) -> tuple[Any, list[uuid.UUID]]:
    """A staff user and PRODUCTS products (`stock` units each), for the benchmarks to sell."""

    async def unit(work):
        return await run_unit(db.sessions, work, lock_timeout_ms=5000)

    new = await accounts.prepare_new_user(
        email="bench@petpos.example",
        phone="+1 202 555 0199",
        name="Bench",
        password="bench-password",
        role="STAFF",
        phone_region="US",
    )
    staff = await unit(lambda uow: accounts.create_user(uow, new))
    products = []
    for i in range(PRODUCTS):
        item = catalog.prepare_product(
            sku=f"BENCH-{i}",
            name=f"Chew {i}",
            description=None,
            category="TOY",
            price=Decimal("4.99"),
            stock=stock,
        )
        products.append((await unit(lambda uow, item=item: catalog.create_product(uow, item))).id)
    return staff, products


def token_of(staff: Any) -> str:
    return credentials.issue_token(
        user_id=staff.id, token_version=staff.token_version, key=SECRET, ttl_minutes=60
    )


@contextmanager
def throwaway_database() -> Iterator[tuple[str, Settings]]:
    """A throwaway embedded PostgreSQL, migrated: its url, and settings with a data folder."""
    with tempfile.TemporaryDirectory(prefix="petpos-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata", delete_on_stop=True)
        try:
            upgrade(server.url)
            yield (
                server.url,
                Settings(database_url=server.url, secret_key=SECRET, data_dir=Path(tmp) / "data"),
            )
        finally:
            server.stop()


@contextmanager
def serving(url: str, settings: Settings, workers: int) -> Iterator[tuple[int, subprocess.Popen]]:
    """`petpos serve` in production mode on `url`, ready: its port and process, stopped after."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PETPOS_ENV": "production",
        "PETPOS_SECRET_KEY": SECRET,
        "PETPOS_DATA_DIR": str(settings.data_dir),
    }
    command = [str(Path(sys.executable).parent / "petpos"), "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_ready(process, port)
        yield port, process
    finally:
        process.terminate()
        process.wait(timeout=60)


async def seed(settings: Settings, url: str) -> tuple[str, uuid.UUID, list[uuid.UUID], list[uuid.UUID]]:
    """(staff token, hot order, spread orders, products)."""
    db = Database(settings, url)
    try:
        staff, products = await staff_and_products(db, stock=0)
        opened = [
            await run_unit(
                db.sessions,
                lambda uow, i=i: orders.create_order(uow, orders.NewOrder(f"T{i}", None), by=staff.id),
                lock_timeout_ms=5000,
            )
            for i in range(PRODUCTS + 1)
        ]
        return token_of(staff), opened[0].id, [o.id for o in opened[1:]], products
    finally:
        await db.dispose()


def add_body(order_id: uuid.UUID, product: uuid.UUID) -> str:
    variables = {
        "i": {"orderId": str(order_id), "itemType": "PRODUCT", "itemId": str(product), "quantity": 1}
    }
    return json.dumps({"query": ADD, "variables": variables})


def lua_script(bodies: list[str], token: str | None) -> str:
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    quoted = ",\n".join(f"[==[{body}]==]" for body in bodies)
    return LUA % {"bodies": quoted, "auth": auth}


def connections_per_worker(server_pid: int, port: int) -> list[int]:
    owners: Counter[int] = Counter()
    for worker in psutil.Process(server_pid).children(recursive=True):
        try:
            for c in worker.net_connections(kind="tcp"):
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port and c.raddr:
                    owners[worker.pid] += 1
        except psutil.Error:
            continue
    return sorted(owners.values(), reverse=True)


def wrk(
    port: int, script: str, connections: int, seconds: float, server_pid: int, profile: Path | None = None
) -> dict:
    """One wrk run; with `profile`, py-spy records one worker meanwhile (collapsed stacks)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        process = subprocess.Popen(
            [
                "wrk",
                f"-t{THREADS}",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                f.name,
                f"http://127.0.0.1:{port}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        spy = None
        if profile is not None:
            worker = psutil.Process(server_pid).children(recursive=True)[-1].pid
            spy = subprocess.Popen(
                [str(Path(sys.executable).parent / "py-spy"), "record", "--nonblocking", "-r", "250",
                 "-f", "raw", "-d", str(max(1, round(seconds)) - 1), "-p", str(worker), "-o", str(profile)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        time.sleep(min(1.0, seconds / 2))
        spread = connections_per_worker(server_pid, port)
        out, _ = process.communicate()
        if spy is not None:
            spy.wait()
    finally:
        os.unlink(f.name)
    found = re.search(r"^RESULT (.*)$", out, re.M)
    if not found:
        raise SystemExit("wrk said:\n" + out)
    result = json.loads(found.group(1))
    result["rate"] = result["ok"] / result["seconds"]
    result["spread"] = spread
    return result


async def raw_ceiling(
    url: str, rows: list[uuid.UUID], connections: int, seconds: float, *, notify: bool = False
) -> dict:
    """SELECT ... FOR UPDATE + UPDATE + COMMIT, straight on asyncpg, client i on rows[i % len(rows)];
    with `notify`, the UPDATE also NOTIFYs (as every order change does) and one connection LISTENs."""
    pool = [await asyncpg.connect(url) for _ in range(connections)]
    listener = await asyncpg.connect(url)
    await listener.add_listener(CHANNEL, lambda *_: None)
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    announce = f", pg_notify('{CHANNEL}', id::text)" if notify else ""

    async def client(connection: asyncpg.Connection, row: uuid.UUID) -> None:
        lock = await connection.prepare("SELECT id FROM sale_orders WHERE id = $1 FOR UPDATE")
        bump = await connection.prepare(
            "UPDATE sale_orders SET version = version + 1, updated_at = clock_timestamp() WHERE id = $1 "
            f"RETURNING version{announce}"
        )
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with connection.transaction():
                await lock.fetchval(row)
                await bump.fetchval(row)
            latencies.append(time.perf_counter() - started)

    try:
        return await drive(pool, lambda c, i: client(c, rows[i % len(rows)]), latencies)
    finally:
        await listener.close()


async def drive(pool: list[asyncpg.Connection], client, latencies: list[float]) -> dict:
    """Run `client(connection, i)` on every connection at once; the rate and latencies (seconds
    each in `latencies`) as a row of the table."""
    started = time.perf_counter()
    await asyncio.gather(*[client(c, i) for i, c in enumerate(pool)])
    elapsed = time.perf_counter() - started
    for connection in pool:
        await connection.close()
    ms = sorted(1000 * x for x in latencies)
    return {
        "rate": len(ms) / elapsed,
        "p50": ms[len(ms) // 2],
        "p99": ms[int(0.99 * (len(ms) - 1))],
        "max": ms[-1],
        "requests": len(ms),
        "ok": len(ms),
        "spread": [],
    }


async def add_ceiling(
    url: str, order: uuid.UUID, products: list[uuid.UUID], connections: int, seconds: float
) -> dict:
    """petpos's own add, straight on asyncpg with no server around it: BEGIN, the order lock, the add
    statement (app/domain/pos/items.py ADD_LINES, one add), COMMIT, on the hot order. What the SQL costs, so
    the gap to the hot order's rate is the request path's."""
    compiled = ADD_LINES.compile(dialect=asyncpg_dialect.dialect())
    names, defaults = tuple(compiled.positiontup or ()), dict(compiled.params)
    pool = [await asyncpg.connect(url) for _ in range(connections)]
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client(connection: asyncpg.Connection, _: int) -> None:
        lock = await connection.prepare(
            "SELECT id, status, number FROM sale_orders WHERE id = $1 FOR NO KEY UPDATE"
        )
        add = await connection.prepare(str(compiled))
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            add_one = {
                "order_id": order, "id": uuid.uuid4(), "item_type": "PRODUCT",
                "item_id": random.choice(products), "mode": "STANDARD", "name": None, "unit_price": None,
                "quantity": 1, "discount": Decimal(0), "note": None,
            }  # fmt: skip
            values = {**defaults, **{f"new_{name}": [value] for name, value in add_one.items()}}
            async with connection.transaction():
                await lock.fetchrow(order)
                await add.fetchrow(*(values[name] for name in names))
            latencies.append(time.perf_counter() - started)

    return await drive(pool, client, latencies)


async def order_state(url: str, order_ids: list[uuid.UUID]) -> tuple[int, int]:
    """The orders' versions and the units on them, each summed."""
    connection = await asyncpg.connect(url)
    try:
        version = await connection.fetchval(
            "SELECT sum(version) FROM sale_orders WHERE id = ANY($1)", order_ids
        )
        units = await connection.fetchval(
            "SELECT coalesce(sum(quantity), 0) FROM sale_order_items WHERE order_id = ANY($1)", order_ids
        )
        return version, units
    finally:
        await connection.close()


def wait_ready(process: subprocess.Popen, port: int) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise SystemExit("petpos serve exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("petpos serve did not become ready")


HEADER = f"{'':<44} {'rate':>10} {'p50':>11} {'p99':>11} {'max':>11} {'failed':>6} {'per worker':>7}"


def row(name: str, r: dict) -> str:
    spread = "/".join(map(str, r["spread"])) or "-"
    return (
        f"{name:<44} {r['rate']:>8.0f}/s {r['p50']:>8.1f} ms {r['p99']:>8.1f} ms {r['max']:>8.1f} ms "
        f"{r['requests'] - r['ok']:>6} {spread:>7}"
    )


def bench_arguments(doc: str, seconds: float) -> argparse.ArgumentParser:
    """The options every benchmark here takes: how long, how many connections, how many workers."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=seconds)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    return parser


def require_wrk() -> None:
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install -y wrk")


def main() -> int:
    parser = bench_arguments(__doc__, seconds=10)
    parser.add_argument(
        "--profile", type=Path, help="a directory: py-spy records one worker per run (collapsed stacks)"
    )
    args = parser.parse_args()
    require_wrk()
    c, seconds = args.connections, args.seconds

    with throwaway_database() as (url, settings):
        token, hot, spread_orders, products = asyncio.run(seed(settings, url))
        with serving(url, settings, args.workers) as (port, server_process):
            hot_script = lua_script([add_body(hot, p) for p in products], token)
            spread_script = lua_script(
                [add_body(spread_orders[i], products[(i * 5) % PRODUCTS]) for i in range(PRODUCTS)], token
            )
            typename = lua_script([json.dumps({"query": "{ __typename }"})], None)
            me = lua_script([json.dumps({"query": "{ me { id } }"})], token)
            print(
                f"petpos serve --workers {args.workers} (production); wrk -t{THREADS} -c{c} -d{seconds:g}s; "
                f"{os.cpu_count()} CPUs\n"
            )
            wrk(port, hot_script, c, 2, server_process.pid)  # warm-up: pools, caches, prepared statements
            wrk(port, typename, c, 1, server_process.pid)
            direct = listen_url(url)
            raw = asyncio.run(raw_ceiling(direct, [spread_orders[-1]], c, seconds))
            raw_spread = asyncio.run(raw_ceiling(direct, spread_orders, c, seconds))
            raw_spread_notify = asyncio.run(raw_ceiling(direct, spread_orders, c, seconds, notify=True))
            add_raw = asyncio.run(add_ceiling(direct, spread_orders[-2], products, c, seconds))
            before = asyncio.run(order_state(url, [hot]))
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
            spy = (lambda name: args.profile / f"{name}.txt") if args.profile else (lambda name: None)
            hot_run = wrk(port, hot_script, c, seconds, server_process.pid, spy("hot"))
            time.sleep(0.5)  # requests in flight at wrk's stop finish
            after = asyncio.run(order_state(url, [hot]))
            spread_before = asyncio.run(order_state(url, spread_orders))
            spread_run = wrk(port, spread_script, c, seconds, server_process.pid, spy("spread"))
            time.sleep(0.5)
            spread_after = asyncio.run(order_state(url, spread_orders))
            typename_run = wrk(port, typename, c, seconds, server_process.pid, spy("typename"))
            me_run = wrk(port, me, c, seconds, server_process.pid, spy("me"))

    print(HEADER)
    print(row(f"raw asyncpg, lock + update + commit ({c})", raw))
    print(row(f"raw asyncpg, the same on 64 orders ({c})", raw_spread))
    print(row(f"raw asyncpg, the same with NOTIFY, 64 orders ({c})", raw_spread_notify))
    print(row(f"raw asyncpg, petpos's lock + add + commit ({c})", add_raw))
    print(row(f"addSaleOrderItem, one hot order ({c})", hot_run))
    print(row(f"addSaleOrderItem, spread over 64 orders ({c})", spread_run))
    print(row("{ __typename }, anonymous", typename_run))
    print(row("{ me { id } }, signed in", me_run))
    print()
    print(f"hot / raw ceiling      {hot_run['rate'] / raw['rate']:.2f}   (goal >= 0.6)")
    print(f"hot / its own SQL, raw {hot_run['rate'] / add_raw['rate']:.2f}")
    print(f"hot p99                {hot_run['p99']:.0f} ms (goal <= 150 ms)")
    print(f"hot / spread           {hot_run['rate'] / spread_run['rate']:.2f}")
    print(f"me / __typename        {me_run['rate'] / typename_run['rate']:.2f}   (goal >= 0.6)")
    version, units = after[0] - before[0], after[1] - before[1]
    exact = after[0] - 1 == after[1]
    seen = hot_run["ok"]
    in_flight = 0 <= units - seen <= c
    print(
        f"\nhot order: version - 1 = {after[0] - 1}, units on it = {after[1]} "
        f"({'exact' if exact else 'MISMATCH: an add was lost or doubled'}); this run added {units} units "
        f"in {version} versions, clients saw {seen} adds succeed "
        f"({'consistent' if in_flight and version == units else 'MISMATCH'})"
    )
    # Each add is one unit (add_body) and one version of its order.
    spread_versions, spread_units = (b - a for a, b in zip(spread_before, spread_after, strict=True))
    spread_seen = spread_run["ok"]
    spread_exact = spread_units == spread_versions and 0 <= spread_versions - spread_seen <= c
    print(
        f"spread orders: this run added {spread_units} units in {spread_versions} versions, clients saw "
        f"{spread_seen} adds succeed ({'consistent' if spread_exact else 'MISMATCH'})"
    )
    ok = exact and in_flight and version == units and hot_run["requests"] == seen
    return 0 if ok and spread_exact and spread_run["requests"] == spread_seen else 1


if __name__ == "__main__":
    sys.exit(main())
