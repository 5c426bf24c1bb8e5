"""How long `petpos check` takes on about a million rows, and how PostgreSQL runs each check.

Fills a throwaway embedded database (migrated to head) with a consistent shop made by
generate_series INSERTs: customers, products with their movements, sales with their lines
(coupons, points, cash and card, online and POS), refunds, the POS orders behind the POS sales
(plus merged, open and cancelled ones), idempotency keys, the loyalty ledger, pets and adoption
requests in every state. Then runs `petpos check --timings` against it a few times (a real
process, as an operator would), and EXPLAINs every check query to show it is one pass over its
tables: hash or merge joins and aggregates, no per-row subplan, no nested loop over a full scan.

    .venv/bin/python bench/check_scale.py [--scale 1.0] [--runs 3]

--scale 1.0 is about 1.2 million rows; the database is deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.check import INVARIANTS, parameters, snapshot  # noqa: E402
from app.domain.models import Base  # noqa: E402
from app.embedded import EmbeddedPostgres  # noqa: E402
from app.migrations import upgrade  # noqa: E402
from app.settings import async_url  # noqa: E402


def uid(kind: str, n: str) -> str:
    """A deterministic uuid for row n of a kind, so rows can refer to each other without lookups."""
    return f"md5('{kind}' || ({n}))::uuid"


def fill_statements(customers: int, products: int, sales: int, pets: int, side_orders: int) -> list[str]:
    services, coupons, staff = 100, 1000, 10
    customer_of = f"({uid('user', f'(%s %% {customers}) + 1')})"
    return [
        # People: customers, and staff who ring up POS sales and decide adoption requests.
        f"""INSERT INTO users (id, email, phone, name, role, password_hash, token_version, loyalty_points)
            SELECT {uid("user", "n")}, 'bench-' || n || '@example.test', '+1555' || lpad(n::text, 7, '0'),
                   'Bench ' || n, 'CUSTOMER', 'not a hash', 1, 0
            FROM generate_series(1, {customers}) n""",
        f"""INSERT INTO users (id, email, phone, name, role, password_hash, token_version, loyalty_points)
            SELECT {uid("staff", "n")}, 'bench-staff-' || n || '@example.test',
                   '+1556' || lpad(n::text, 7, '0'), 'Staff ' || n, 'STAFF', 'not a hash', 1, 0
            FROM generate_series(1, {staff}) n""",
        # The catalogue, each product opened with an INITIAL movement.
        f"""INSERT INTO products (id, sku, name, description, category, price, stock, active)
            SELECT {uid("product", "n")}, 'BENCH-' || n, 'Product ' || n, '', 'FOOD',
                   round(((n % 50) + 1) * 1.10, 2), 0, true
            FROM generate_series(1, {products}) n""",
        f"""INSERT INTO stock_movements (id, product_id, delta, reason)
            SELECT {uid("initial", "n")}, {uid("product", "n")}, 100000, 'INITIAL'
            FROM generate_series(1, {products}) n""",
        f"""INSERT INTO services (id, name, price, duration_minutes, active)
            SELECT {uid("service", "n")}, 'Service ' || n, 25.00, 30, true
            FROM generate_series(1, {services}) n""",
        # Odd coupons take 10 %, even ones 5.00 off.
        f"""INSERT INTO coupons (id, code, kind, value, times_used, active)
            SELECT {uid("coupon", "n")}, 'BENCH' || n, CASE WHEN n % 2 = 1 THEN 'PERCENT' ELSE 'FIXED' END,
                   CASE WHEN n % 2 = 1 THEN 10 ELSE 5.00 END, 0, true
            FROM generate_series(1, {coupons}) n""",
        # Sale n: odd ones online, even ones at the counter; three lines, the third of a counter
        # sale a service; a counter line with a discount is a CUSTOM line.
        f"""CREATE TEMP TABLE bench_lines AS
            SELECT n, position, item_type, item_id, unit_price, quantity, discount,
                   unit_price * quantity - discount AS line_total
            FROM (SELECT n, position,
                         CASE WHEN n % 2 = 0 AND position = 2 THEN 'SERVICE' ELSE 'PRODUCT' END AS item_type,
                         CASE WHEN n % 2 = 0 AND position = 2 THEN {uid("service", f"(n % {services}) + 1")}
                              ELSE {uid("product", f"((n * 3 + position) % {products}) + 1")} END AS item_id,
                         CASE WHEN n % 2 = 0 AND position = 2 THEN 25.00
                              ELSE round(((((n * 3 + position) % {products}) + 1) % 50 + 1) * 1.10, 2) END
                              AS unit_price,
                         (n + position) % 3 + 1 AS quantity,
                         CASE WHEN n % 2 = 0 AND n % 3 = 0 AND position = 1 THEN 0.50 ELSE 0 END AS discount
                  FROM generate_series(1, {sales}) n, generate_series(0, 2) position) l""",
        # Some online sales redeem points, never more than they earn back, so no balance goes negative.
        f"""CREATE TEMP TABLE bench_sales AS
            SELECT *, points / 100.0 AS points_discount, subtotal - coupon_discount - points / 100.0 AS total
            FROM (SELECT *, CASE WHEN n % 10 = 3 THEN least(100, floor((subtotal - coupon_discount) / 2))
                                 ELSE 0 END AS points
                  FROM (SELECT n, channel, customer, subtotal, coupon,
                               CASE WHEN coupon IS NULL THEN 0
                                    WHEN coupon % 2 = 1 THEN round(subtotal * 10 / 100, 2)
                                    ELSE least(5.00, subtotal) END AS coupon_discount
                        FROM (SELECT n, CASE WHEN n % 2 = 1 THEN 'ONLINE' ELSE 'POS' END AS channel,
                                     CASE WHEN n % 2 = 1 OR n % 4 = 0
                                          THEN {customer_of % "n"} END AS customer,
                                     sum(line_total) AS subtotal,
                                     CASE WHEN n % 10 = 1 THEN (n % {coupons}) + 1 END AS coupon
                              FROM bench_lines GROUP BY n) s) t) u""",
        f"""INSERT INTO sales (id, number, channel, status, customer_id, subtotal, coupon_discount,
                               points_discount, total, coupon_id, coupon_code, points_redeemed,
                               points_earned, payment_method, amount_tendered, change, refunded_amount,
                               points_reversed, points_restored, created_by)
            SELECT {uid("sale", "n")}, 'S-' || lpad(n::text, 7, '0'), channel, 'COMPLETED', customer,
                   subtotal, coupon_discount, points_discount, total, {uid("coupon", "coupon")},
                   CASE WHEN coupon IS NOT NULL THEN 'BENCH' || coupon END, points,
                   CASE WHEN customer IS NULL THEN 0 ELSE floor(total) END,
                   CASE WHEN channel = 'ONLINE' THEN 'ONLINE' WHEN n % 4 = 0 THEN 'CASH' ELSE 'CARD' END,
                   CASE WHEN channel = 'POS' AND n % 4 = 0 THEN ceil(total) + 20 END,
                   CASE WHEN channel = 'POS' AND n % 4 = 0 THEN ceil(total) + 20 - total END,
                   0, 0, 0,
                   CASE WHEN channel = 'ONLINE' THEN customer ELSE {uid("staff", "1")} END
            FROM bench_sales""",
        # One tender per sale, as migration 0009 back-fills them: what was handed over for cash.
        """INSERT INTO sale_tenders (id, sale_id, position, method, amount)
           SELECT md5('tender' || id)::uuid, id, 0, payment_method, coalesce(amount_tendered, total)
           FROM sales""",
        # Net totals as money.share does it: each share rounded down, the cents left over to the
        # largest remainders (ties to the earlier line).
        """INSERT INTO sale_lines (id, sale_id, position, item_type, item_id, name, unit_price, quantity,
                                   discount, line_total, net_total, refunded_quantity)
           SELECT md5('line' || n || '-' || position)::uuid, md5('sale' || n)::uuid, position,
                  item_type, item_id, 'Item', unit_price, quantity, discount, line_total,
                  low + CASE WHEN rank <= leftover THEN 0.01 ELSE 0 END, 0
           FROM (SELECT *, row_number() OVER (PARTITION BY n ORDER BY rest DESC, position) AS rank,
                        round((total - sum(low) OVER (PARTITION BY n)) * 100) AS leftover
                 FROM (SELECT l.*, s.total, trunc(raw, 2) AS low, raw - trunc(raw, 2) AS rest
                       FROM bench_lines l JOIN bench_sales s USING (n),
                       LATERAL (SELECT CASE WHEN s.subtotal = 0 THEN 0
                                            ELSE round(s.total * l.line_total, 30) / s.subtotal END
                                       AS raw) r) x) y""",
        """INSERT INTO stock_movements (id, product_id, delta, reason, note)
           SELECT md5('sold' || n || '-' || position)::uuid, item_id, -quantity, 'SALE',
                  'S-' || lpad(n::text, 7, '0')
           FROM bench_lines WHERE item_type = 'PRODUCT'""",
        """INSERT INTO loyalty_ledger (id, user_id, delta, reason, sale_id)
           SELECT md5('earn' || id)::uuid, customer_id, points_earned, 'EARN', id
           FROM sales WHERE points_earned > 0
           UNION ALL
           SELECT md5('redeem' || id)::uuid, customer_id, -points_redeemed, 'REDEEM', id
           FROM sales WHERE points_redeemed > 0""",
        """INSERT INTO idempotency_keys (id, user_id, operation, key, fingerprint, result_id)
            SELECT md5('key' || id)::uuid, created_by, CASE channel WHEN 'ONLINE' THEN 'checkout'
                   ELSE 'checkoutSaleOrder' END, 'bench-' || number, repeat('0', 64), id
            FROM sales""",
        # Every tenth sale (online) has its first line refunded in full: stock back, earned points
        # reversed in proportion to the refunded value.
        """CREATE TEMP TABLE bench_refunds AS
           SELECT s.id AS sale_id, s.number, s.customer_id, s.payment_method, l.id AS line_id,
                  l.item_id, l.quantity,
                  l.net_total, round(s.points_earned * l.line_total / s.subtotal) AS reversed
           FROM sales s JOIN sale_lines l ON l.sale_id = s.id AND l.position = 0
           WHERE right(s.number, 1) = '5'""",
        f"""INSERT INTO refunds (id, sale_id, amount, points_reversed, points_restored, reason, created_by,
                                 method)
            SELECT md5('refund' || sale_id)::uuid, sale_id, net_total, reversed, 0, 'bench',
                   {uid("staff", "1")}, CASE WHEN payment_method = 'CASH' THEN 'CARD' ELSE payment_method END
            FROM bench_refunds""",
        """INSERT INTO refund_lines (id, refund_id, sale_line_id, quantity, amount)
           SELECT md5('refund line' || sale_id)::uuid, md5('refund' || sale_id)::uuid, line_id,
                  quantity, net_total
           FROM bench_refunds""",
        """UPDATE sale_lines SET refunded_quantity = r.quantity
           FROM bench_refunds r WHERE sale_lines.id = r.line_id""",
        """UPDATE sales SET refunded_amount = r.net_total, points_reversed = r.reversed,
                            status = 'PARTIALLY_REFUNDED'
           FROM bench_refunds r WHERE sales.id = r.sale_id""",
        """INSERT INTO stock_movements (id, product_id, delta, reason, note)
           SELECT md5('back' || sale_id)::uuid, item_id, quantity, 'REFUND', number FROM bench_refunds""",
        """INSERT INTO loyalty_ledger (id, user_id, delta, reason, sale_id, refund_id)
           SELECT md5('reverse' || sale_id)::uuid, customer_id, -reversed, 'REVERSE', sale_id,
                  md5('refund' || sale_id)::uuid
           FROM bench_refunds WHERE reversed > 0""",
        f"""INSERT INTO idempotency_keys (id, user_id, operation, key, fingerprint, result_id)
            SELECT md5('refund key' || sale_id)::uuid, {uid("staff", "1")}, 'refundSale', 'bench-' || number,
                   repeat('0', 64), md5('refund' || sale_id)::uuid
            FROM bench_refunds""",
        # The counter's orders: one CHECKED_OUT per POS sale with the sale's lines, one MERGED into
        # every fifth of them, and open and cancelled ones.
        f"""INSERT INTO sale_orders (id, number, customer_id, status, sale_id, version, created_by)
            SELECT {uid("order", "n")}, 'O-' || lpad(n::text, 7, '0'), customer, 'CHECKED_OUT',
                   {uid("sale", "n")}, 5, {uid("staff", "1")}
            FROM bench_sales WHERE channel = 'POS'""",
        """INSERT INTO sale_order_items (id, order_id, item_type, item_id, mode, name, unit_price,
                                         quantity, discount)
           SELECT md5('item' || n || '-' || position)::uuid, md5('order' || n)::uuid, item_type, item_id,
                  CASE WHEN discount > 0 THEN 'CUSTOM' ELSE 'STANDARD' END, 'Item', unit_price,
                  quantity, discount
           FROM bench_lines WHERE n % 2 = 0""",
        f"""INSERT INTO sale_orders (id, number, status, merged_into_id, version, created_by)
            SELECT {uid("merged", "n")}, 'M-' || lpad(n::text, 7, '0'), 'MERGED', {uid("order", "n")}, 2,
                   {uid("staff", "2")}
            FROM generate_series(2, {sales}, 10) n""",
        f"""INSERT INTO sale_orders (id, number, status, version, created_by)
            SELECT {uid("side order", "n")}, 'D-' || lpad(n::text, 7, '0'),
                   CASE WHEN n % 2 = 0 THEN 'DRAFT' ELSE 'CANCELLED' END, 3, {uid("staff", "3")}
            FROM generate_series(1, {side_orders}) n""",
        f"""INSERT INTO sale_order_items (id, order_id, item_type, item_id, mode, name, unit_price, quantity)
            SELECT {uid("side item", "n || '-' || k")}, {uid("side order", "n")}, 'PRODUCT',
                   {uid("product", f"((n + k) % {products}) + 1")}, 'STANDARD', 'Item', 2.20, k
            FROM generate_series(1, {side_orders}) n, generate_series(1, 2) k""",
        # Pets: AVAILABLE never asked for; AVAILABLE again after a rejection and a cancel; PENDING;
        # ADOPTED after a rejection.
        f"""INSERT INTO pets (id, name, species, age_months, description, adoption_fee, status)
            SELECT {uid("pet", "n")}, 'Pet ' || n, 'DOG', 12, '', 50.00,
                   (ARRAY['AVAILABLE', 'AVAILABLE', 'PENDING', 'ADOPTED'])[n % 4 + 1]
            FROM generate_series(1, {pets}) n""",
        f"""INSERT INTO adoption_requests (id, pet_id, applicant_id, status, decided_by, decided_at)
            SELECT {uid("request", "n || '-' || status")}, {uid("pet", "n")},
                   {customer_of % "(n + k)"}, status,
                   CASE status WHEN 'PENDING' THEN NULL WHEN 'CANCELLED' THEN {customer_of % "(n + k)"}
                        ELSE {uid("staff", "4")} END,
                   CASE WHEN status <> 'PENDING' THEN now() END
            FROM (SELECT n, k, (ARRAY[NULL, 'REJECTED', 'PENDING', 'REJECTED'])[n % 4 + 1] AS status
                  FROM generate_series(1, {pets}) n, generate_series(0, 0) k
                  UNION ALL
                  SELECT n, 1, (ARRAY[NULL, 'CANCELLED', NULL, 'APPROVED'])[n % 4 + 1]
                  FROM generate_series(1, {pets}) n) r
            WHERE status IS NOT NULL""",
        # The running figures, from what they are the sums of.
        """UPDATE products SET stock = m.total
           FROM (SELECT product_id, sum(delta) AS total FROM stock_movements GROUP BY product_id) m
           WHERE products.id = m.product_id""",
        """UPDATE users SET loyalty_points = l.total
           FROM (SELECT user_id, sum(delta) AS total FROM loyalty_ledger GROUP BY user_id) l
           WHERE users.id = l.user_id""",
        """UPDATE coupons SET times_used = u.uses
           FROM (SELECT coupon_id, count(*) AS uses FROM sales WHERE coupon_id IS NOT NULL
                 GROUP BY coupon_id) u
           WHERE coupons.id = u.coupon_id""",
        # The counter sale numbers are drawn from (app/domain/sales/numbers.py) goes on after them.
        f"""INSERT INTO sale_numbers (id, last) VALUES (1, {max(sales, 1)})
            ON CONFLICT (id) DO UPDATE SET last = excluded.last""",
    ]


async def fill(url: str, scale: float) -> dict[str, int]:
    engine = create_async_engine(async_url(url))
    statements = fill_statements(
        customers=int(20_000 * scale),
        products=max(10, int(10_000 * scale)),
        sales=int(100_000 * scale),
        pets=int(20_000 * scale),
        side_orders=int(10_000 * scale),
    )
    try:
        async with engine.begin() as connection:
            for statement in statements:
                await connection.execute(text(statement))
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("VACUUM ANALYZE"))
            return {
                t.name: await connection.scalar(text(f'SELECT count(*) FROM "{t.name}"'))
                for t in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


def plan_nodes(node: dict, parent: str | None = None):
    yield node, parent
    for child in node.get("Plans", []):
        yield from plan_nodes(child, node["Node Type"])


async def explain(url: str) -> list[tuple[str, str, list[str]]]:
    """Per check: its scans and joins, and anything that is not one pass (a subplan run per row,
    a nested loop whose inner side scans a whole table)."""
    engine = create_async_engine(async_url(url))
    found = []
    try:
        async with snapshot(engine) as connection:  # the transaction `petpos check` runs in
            for invariant in INVARIANTS:
                explained = text("EXPLAIN (FORMAT JSON) " + invariant.sql)
                plan = (await connection.execute(explained, parameters())).scalar()
                plan = plan if isinstance(plan, list) else json.loads(plan)
                shape, worries = [], []
                for node, parent in plan_nodes(plan[0]["Plan"]):
                    kind = node["Node Type"]
                    if "Relation Name" in node:
                        shape.append(f"{kind} {node['Relation Name']}")
                    elif kind in ("Hash Join", "Merge Join", "Nested Loop"):
                        shape.append(kind)
                    elif kind == "Aggregate":
                        shape.append(f"{node.get('Strategy', '')} Aggregate".strip())
                    if node.get("Parent Relationship") == "SubPlan":
                        worries.append(f"per-row subplan under {parent}")
                    if kind == "Nested Loop":
                        inner = [c for c in node.get("Plans", []) if c.get("Parent Relationship") == "Inner"]
                        if any(c["Node Type"] == "Seq Scan" for c in inner):
                            worries.append("nested loop over a full scan")
                found.append((invariant.name, ", ".join(shape), worries))
    finally:
        await engine.dispose()
    return found


def timed_check(url: str) -> tuple[float, str]:
    env = {**os.environ, "DATABASE_URL": url, "PETPOS_SECRET_KEY": "bench-secret-key-" + "x" * 32}
    started = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "petpos"), "check", "--timings"],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"petpos check failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="petpos-check-scale-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pgdata", delete_on_stop=True)
        try:
            upgrade(server.url)
            started = time.perf_counter()
            counts = asyncio.run(fill(server.url, args.scale))
            print(f"Filled {sum(counts.values()):,} rows in {time.perf_counter() - started:.1f} s:")
            print("  " + ", ".join(f"{name} {count:,}" for name, count in counts.items() if count))
            print("\nEXPLAIN of each check:")
            for name, shape, worries in asyncio.run(explain(server.url)):
                print(f"  {name:20} {'one pass' if not worries else 'NOT one pass: ' + '; '.join(worries)}")
                print(f"  {'':20} {shape}")
            runs = []
            for run in range(args.runs):
                elapsed, output = timed_check(server.url)
                runs.append(elapsed)
                print(f"\n`petpos check` run {run + 1}: {elapsed:.2f} s wall clock (process start included)")
                print(output.rstrip())
            print(f"\nBest of {len(runs)}: {min(runs):.2f} s for {sum(counts.values()):,} rows.")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
