"""Scale-out: the same load on `petpos serve --workers 1`, then `--workers 2`, then two workers
behind PgBouncer in transaction pooling mode (when Debian's pgbouncer is installed).

The server keeps no state between requests (sessions are bearer tokens, live updates go through
PostgreSQL's NOTIFY), so processes, and hosts, add up until the database is the limit. Two loads,
each driven by wrk (keep-alive HTTP/1.1) with CONNECTIONS connections for SECONDS:

- spread adds: addSaleOrderItem over 64 orders (no order is hot), the payload asking for
  `order { id version total { amount } }`, so the write path is measured without contention;
- `{ me { id } }`: a signed-in read.

Starts its own throwaway embedded PostgreSQL. After the adds, every order's version - 1 must equal
its units (no add lost or doubled), checked in the database.

    .venv/bin/python bench/workers.py [--seconds 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.embedded import EmbeddedPostgres  # noqa: E402
from app.migrations import upgrade  # noqa: E402
from app.settings import Settings, plain_url  # noqa: E402
from bench.hot_order import SECRET, seed, wait_ready  # noqa: E402
from tests.pgbouncer import free_port, pgbouncer  # noqa: E402

ADD = (
    "mutation($i: AddSaleOrderItemInput!) { addSaleOrderItem(input: $i) "
    "{ order { id version total { amount } } errors { code } } }"
)
ME = "{ me { id } }"

# wrk sends the bodies in turn; an answer that is not 200 or lacks `expect` counts as failed.
LUA = """
local bodies = {%s}
local threads = {}
local i = 0
failed = 0
function setup(thread) table.insert(threads, thread) end
request = function()
  i = i + 1
  return wrk.format("POST", "/graphql", nil, bodies[(i %% #bodies) + 1])
end
response = function(status, headers, body)
  if status ~= 200 or string.find(body, [==[%s]==], 1, true) == nil then failed = failed + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("failed") end
  io.write(string.format("failed answers: %%d\\n", total))
end
"""


def lua_script(bodies: list[str], expect: str) -> str:
    return LUA % (", ".join("[==[" + body + "]==]" for body in bodies), expect)


def run_wrk(
    port: int, token: str, script: Path, connections: int, seconds: float
) -> tuple[float, float, int]:
    """wrk's requests/s and p99 latency (ms), and the count of failed answers."""
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{round(seconds)}s", "--timeout", "30s",
         "--latency", "-s", str(script),
         "-H", f"Authorization: Bearer {token}", "-H", "Content-Type: application/json",
         f"http://127.0.0.1:{port}/graphql"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99_text = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99_text.group(2)]
    failed = int(re.search(r"failed answers: (\d+)", out).group(1))
    return rate, float(p99_text.group(1)) * scale, failed


async def exact(url: str) -> tuple[int, int]:
    """(sum of version - 1, sum of units) over every order: equal when no add was lost or doubled."""
    connection = await asyncpg.connect(plain_url(url))
    try:
        # One statement, one snapshot: an add still in flight when wrk stops lands in both or neither.
        row = await connection.fetchrow(
            "SELECT (SELECT coalesce(sum(version - 1), 0) FROM sale_orders) AS bumps, "
            "(SELECT coalesce(sum(quantity), 0) FROM sale_order_items) AS units"
        )
        return row["bumps"], row["units"]
    finally:
        await connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="petpos-bench-") as tmp, ExitStack() as stack:
        server = EmbeddedPostgres(Path(tmp) / "pgdata", delete_on_stop=True)
        stack.callback(server.stop)
        url = server.url
        upgrade(url)
        settings = Settings(database_url=url, secret_key=SECRET, data_dir=Path(tmp) / "data")
        token, _, order_ids, products = asyncio.run(seed(settings, url))
        adds = [
            json.dumps(
                {
                    "query": ADD,
                    "variables": {
                        "i": {"orderId": str(o), "itemType": "PRODUCT", "itemId": str(p), "quantity": 1}
                    },
                },
                separators=(",", ":"),
            )
            for o, p in zip(order_ids, products, strict=True)  # one product an order
        ]
        scripts = {"spread adds": Path(tmp) / "adds.lua", "{ me { id } }": Path(tmp) / "me.lua"}
        scripts["spread adds"].write_text(lua_script(adds, '"errors":[]'))
        scripts["{ me { id } }"].write_text(lua_script([json.dumps({"query": ME})], '{"me":{"id"'))
        bouncer = None
        if shutil.which("pgbouncer") or Path("/usr/sbin/pgbouncer").exists():
            bouncer = stack.enter_context(pgbouncer(url, server_connections=8))
        setups = [("1 worker", 1, {}), ("2 workers", 2, {})]
        if bouncer:
            pooled = {
                "DATABASE_URL": bouncer,
                "DATABASE_LISTEN_URL": url,
                "DATABASE_TRANSACTION_POOLER": "true",
            }
            setups.append(("2 workers, PgBouncer", 2, pooled))
        print(
            f"wrk, {args.connections} connections, {args.seconds:.0f} s per run; {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f} at the start\n"
        )
        print(f"{'':<24} {'spread adds/s':>14} {'p99':>9} {'me/s':>9} {'p99':>9} {'exact':>6}")
        ok = True
        for name, workers, extra in setups:
            port = free_port()
            env = {**os.environ, "DATABASE_URL": url, "PETPOS_SECRET_KEY": SECRET, **extra}
            env.update(PETPOS_ENV="production", PETPOS_DATA_DIR=str(Path(tmp) / "data"))
            command = ["serve", "--port", str(port), "--workers", str(workers)]
            log = Path(tmp) / "serve.log"
            serve = subprocess.Popen(
                [str(Path(sys.executable).parent / "petpos"), *command],
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            try:
                wait_ready(serve, port)
                run_wrk(port, token, scripts["{ me { id } }"], args.connections, 2)  # warm-up
                before = asyncio.run(exact(url))
                add_rate, add_p99, add_bad = run_wrk(
                    port, token, scripts["spread adds"], args.connections, args.seconds
                )
                after = asyncio.run(exact(url))
                me_rate, me_p99, me_bad = run_wrk(
                    port, token, scripts["{ me { id } }"], args.connections, args.seconds
                )
            finally:
                serve.send_signal(signal.SIGTERM)
                serve.wait(timeout=60)
            same = after[0] - before[0] == after[1] - before[1] and add_bad == me_bad == 0
            ok = ok and same
            print(
                f"{name:<24} {add_rate:>14.0f} {add_p99:>7.0f}ms {me_rate:>9.0f} {me_p99:>7.0f}ms "
                f"{'OK' if same else 'NO':>6}"
            )
            if not same:
                print(
                    f"  failed answers: {add_bad} adds, {me_bad} me; versions +{after[0] - before[0]}, "
                    f"units +{after[1] - before[1]}; the server's warnings:"
                )
                print(
                    "\n".join(
                        line for line in log.read_text().splitlines() if "WARNING" in line or "ERROR" in line
                    )
                )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
