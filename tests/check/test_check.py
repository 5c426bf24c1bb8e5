"""`petpos check`: a shop built through the API checks clean; each invariant, broken by a direct SQL
write that bypasses the services, makes a real `petpos check` process exit 1 naming that invariant
and the broken row."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app import check
from app.domain.models import Base
from tests.check.shift_corruptions import SHIFT_CORRUPTIONS
from tests.check.world import World, build_world
from tests.conftest import TEST_SECRET
from tests.invariants import assert_invariants

PETPOS = Path(sys.executable).parent / "petpos"


def petpos(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "PETPOS_SECRET_KEY": TEST_SECRET}
    return subprocess.run([str(PETPOS), *args], env=env, capture_output=True, text=True, timeout=120)


def section(output: str, invariant: str) -> str:
    """The report's lines about one invariant: its heading and the violations under it."""
    lines, inside = [], False
    for line in output.splitlines():
        if line.startswith("VIOLATED "):
            inside = line.startswith(f"VIOLATED {invariant} (")
        elif not line.startswith("  "):
            inside = False
        if inside:
            lines.append(line)
    return "\n".join(lines)


SNAPSHOT = "check_world"  # a copy of the world's tables, so it is built through the API once per module


@pytest.fixture(scope="module")
async def snapshot(db):
    kept: dict[str, World] = {}
    yield kept
    async with db.engine.begin() as connection:
        await connection.execute(text(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE"))


@pytest.fixture
async def world(snapshot, db, gql, users) -> World:
    """The world, built through the API the first time, copied back from the snapshot after."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    if "world" not in snapshot:
        snapshot["world"] = await build_world(gql, users)
        async with db.engine.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA IF EXISTS {SNAPSHOT} CASCADE"))
            await connection.execute(text(f"CREATE SCHEMA {SNAPSHOT}"))
            for table in tables:
                await connection.execute(text(f'CREATE TABLE {SNAPSHOT}."{table}" AS TABLE public."{table}"'))
    else:
        async with db.engine.begin() as connection:
            for table in tables:
                await connection.execute(
                    text(f'INSERT INTO public."{table}" SELECT * FROM {SNAPSHOT}."{table}"')
                )
    return snapshot["world"]


async def test_a_shop_built_through_the_api_checks_clean(database_url, db, world):
    result = petpos(database_url, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"petpos check: all {len(check.INVARIANTS)} invariants hold")
    await assert_invariants(db)


async def test_the_checks_share_one_read_only_repeatable_read_snapshot(db):
    async with check.snapshot(db.engine) as connection:
        settings = (
            await connection.execute(
                text(
                    "SELECT current_setting('transaction_isolation'), "
                    "current_setting('transaction_read_only')"
                )
            )
        ).one()
        assert tuple(settings) == ("repeatable read", "on")
        with pytest.raises(DBAPIError, match="read-only transaction"):
            await connection.execute(text("UPDATE products SET stock = stock + 1"))


async def test_check_refuses_a_database_that_is_not_at_the_latest_migration(database_url, db):
    async with db.engine.begin() as connection:
        head = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        await connection.execute(text("UPDATE alembic_version SET version_num = '0006_sign_in_limits'"))
    try:
        result = petpos(database_url, "check")
    finally:
        async with db.engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert result.returncode == 2
    assert "petpos migrate" in result.stderr


@dataclass(frozen=True)
class Corruption:
    name: str
    invariant: str
    # Writes the damage straight into the tables; returns the id the report must name.
    apply: Callable[[object, World], Awaitable[str]]
    # Constraints (or unique indexes) that would refuse the damage, dropped for the test.
    constraints: tuple[str, ...] = ()
    # The first corruption of each invariant is checked by a real `petpos check` process, the
    # others by the same checks in-process (the same report, without a process's start-up).
    in_process: bool = False


async def _sql(connection, statement: str, **params) -> str | None:
    result = await connection.execute(text(statement), params)
    return str(result.scalar()) if result.returns_rows else None


async def _stock_off_by_one(c, w):
    return await _sql(c, "UPDATE products SET stock = stock + 1 WHERE id = :p RETURNING id", p=w["kibble"])


async def _stock_below_zero(c, w):
    # Its movements brought down with it, so only "below zero" is wrong.
    await _sql(
        c,
        "INSERT INTO stock_movements (id, product_id, delta, reason) "
        "SELECT gen_random_uuid(), id, -stock - 1, 'ADJUSTMENT' FROM products WHERE id = :p",
        p=w["bowl"],
    )
    return await _sql(c, "UPDATE products SET stock = -1 WHERE id = :p RETURNING id", p=w["bowl"])


async def _sale_movement_lost(c, w):
    # One unit of a sale never taken out of stock (the product's stock agrees with its movements).
    await _sql(
        c,
        "UPDATE stock_movements SET delta = delta + 1 WHERE reason = 'SALE' AND product_id = :p "
        "AND note = (SELECT number FROM sales WHERE id = :s)",
        p=w["chew"],
        s=w["online1"],
    )
    await _sql(c, "UPDATE products SET stock = stock + 1 WHERE id = :p", p=w["chew"])
    return w["online1"]


async def _points_off(c, w):
    return await _sql(
        c, "UPDATE users SET loyalty_points = loyalty_points + 5 WHERE id = :u RETURNING id", u=w["ben"]
    )


async def _points_below_zero(c, w):
    await _sql(
        c,
        "UPDATE loyalty_ledger SET delta = delta - loyalty_points - 1 FROM users "
        "WHERE users.id = loyalty_ledger.user_id AND user_id = :u AND reason = 'EARN'",
        u=w["ben"],
    )
    return await _sql(c, "UPDATE users SET loyalty_points = -1 WHERE id = :u RETURNING id", u=w["ben"])


async def _ledger_earn_off(c, w):
    # The balance follows its ledger; only the sale's EARN entry no longer says what it earned.
    await _sql(
        c, "UPDATE loyalty_ledger SET delta = delta + 1 WHERE sale_id = :s AND reason = 'EARN'", s=w["pos1"]
    )
    await _sql(c, "UPDATE users SET loyalty_points = loyalty_points + 1 WHERE id = :u", u=w["ben"])
    return w["pos1"]


async def _coupon_use_uncounted(c, w):
    return await _sql(
        c, "UPDATE coupons SET times_used = times_used - 1 WHERE id = :c RETURNING id", c=w["SAVE10"]
    )


async def _coupon_over_its_limit(c, w):
    return await _sql(c, "UPDATE coupons SET usage_limit = 1 WHERE id = :c RETURNING id", c=w["SAVE10"])


async def _second_pending_request(c, w):
    await _sql(
        c,
        "INSERT INTO adoption_requests (id, pet_id, applicant_id, status) "
        "VALUES (gen_random_uuid(), :p, :u, 'PENDING')",
        p=w["pet_pending"],
        u=w["ann"],
    )
    return w["pet_pending"]


async def _pending_pet_shown_available(c, w):
    return await _sql(
        c, "UPDATE pets SET status = 'AVAILABLE' WHERE id = :p RETURNING id", p=w["pet_pending"]
    )


async def _adopted_pet_without_approval(c, w):
    await _sql(c, "UPDATE adoption_requests SET status = 'REJECTED' WHERE id = :r", r=w["request_approved"])
    return w["pet_adopted"]


async def _cancelled_by_staff(c, w):
    return await _sql(
        c,
        "UPDATE adoption_requests SET decided_by = :u WHERE id = :r RETURNING id",
        u=w["staff"],
        r=w["request_cancelled"],
    )


async def _checked_out_order_of_another_customer(c, w):
    return await _sql(
        c, "UPDATE sale_orders SET customer_id = :u WHERE id = :o RETURNING id", u=w["cy"], o=w["order1"]
    )


async def _cancelled_order_with_a_sale(c, w):
    return await _sql(
        c, "UPDATE sale_orders SET status = 'CANCELLED' WHERE id = :o RETURNING id", o=w["order3"]
    )


async def _pos_sale_without_its_order(c, w):
    await _sql(c, "UPDATE sale_orders SET status = 'DRAFT', sale_id = NULL WHERE id = :o", o=w["order3"])
    return w["pos3"]


async def _merged_order_with_lines(c, w):
    await _sql(
        c,
        "INSERT INTO sale_order_items (id, order_id, item_type, item_id, mode, name, unit_price, "
        "quantity) VALUES (gen_random_uuid(), :o, 'PRODUCT', :p, 'STANDARD', 'chew', 3.33, 1)",
        o=w["order2"],
        p=w["chew"],
    )
    return w["order2"]


async def _merged_order_without_target(c, w):
    return await _sql(
        c, "UPDATE sale_orders SET merged_into_id = NULL WHERE id = :o RETURNING id", o=w["order2"]
    )


async def _subtotal_off(c, w):
    return await _sql(
        c,
        "UPDATE sales SET subtotal = subtotal + 1, total = total + 1 WHERE id = :s RETURNING id",
        s=w["pos3"],
    )


async def _net_cent_on_the_wrong_line(c, w):
    # The net totals still add up to the total, but the cent went to the wrong line.
    await _sql(
        c,
        "UPDATE sale_lines SET net_total = net_total + CASE name WHEN 'chew' THEN -0.01 "
        "ELSE 0.01 END WHERE sale_id = :s",
        s=w["pos3"],
    )
    return w["pos3"]


async def _coupon_discount_off(c, w):
    return await _sql(
        c,
        "UPDATE sales SET coupon_discount = coupon_discount + 0.01, total = total - 0.01 "
        "WHERE id = :s RETURNING id",
        s=w["pos1"],
    )


async def _points_earned_off(c, w):
    return await _sql(
        c, "UPDATE sales SET points_earned = points_earned + 1 WHERE id = :s RETURNING id", s=w["pos3"]
    )


async def _refunded_status_wrong(c, w):
    return await _sql(c, "UPDATE sales SET status = 'REFUNDED' WHERE id = :s RETURNING id", s=w["online1"])


async def _refunded_amount_over_total(c, w):
    # Its refunds say so too: only "more than the total" is wrong with the sale.
    await _sql(
        c,
        "UPDATE refunds SET amount = amount + s.total - s.refunded_amount + 1 FROM sales s "
        "WHERE s.id = refunds.sale_id AND refunds.id = :r",
        r=w["refund1a"],
    )
    return await _sql(
        c, "UPDATE sales SET refunded_amount = total + 1 WHERE id = :s RETURNING id", s=w["online1"]
    )


async def _refunded_quantity_without_refund(c, w):
    return await _sql(
        c,
        "UPDATE sale_lines SET refunded_quantity = refunded_quantity + 1 WHERE id = :l RETURNING id",
        l=w.lines["pos3"]["bowl"],
    )


async def _refunded_more_than_sold(c, w):
    # 3 of 2 units, its refund line saying so with the matching share: only the quantity is wrong.
    await _sql(
        c,
        "UPDATE refund_lines SET quantity = 3, amount = round(l.net_total * 3 / 2, 2) "
        "FROM sale_lines l WHERE l.id = refund_lines.sale_line_id AND l.id = :l",
        l=w.lines["online1"]["kibble"],
    )
    return await _sql(
        c,
        "UPDATE sale_lines SET refunded_quantity = 3 WHERE id = :l RETURNING id",
        l=w.lines["online1"]["kibble"],
    )


async def _refunded_line_of_no_units(c, w):
    # Its shares divide by the units sold: the check names the line instead of failing on 0.
    return await _sql(
        c, "UPDATE sale_lines SET quantity = 0 WHERE id = :l RETURNING id", l=w.lines["online1"]["kibble"]
    )


async def _decided_by_no_one(c, w):
    return await _sql(
        c,
        "UPDATE adoption_requests SET decided_by = NULL WHERE id = :r RETURNING id",
        r=w["request_rejected"],
    )


async def _refund_amount_off(c, w):
    # The sale's refunded amount follows, so only the refund no longer adds up.
    await _sql(c, "UPDATE sales SET refunded_amount = refunded_amount + 0.01 WHERE id = :s", s=w["online1"])
    return await _sql(
        c, "UPDATE refunds SET amount = amount + 0.01 WHERE id = :r RETURNING id", r=w["refund1a"]
    )


async def _line_tax_off_its_rate(c, w):
    # The sale's tax and total follow, so only the line's tax is wrong.
    await _sql(c, "UPDATE sales SET tax = tax + 0.01, total = total + 0.01 WHERE id = :s", s=w["pos1"])
    return await _sql(
        c,
        "UPDATE sale_lines SET tax = tax + 0.01 WHERE id = :l RETURNING sale_id",
        l=w.lines["pos1"]["groom"],
    )


async def _sale_tax_off_its_lines(c, w):
    return await _sql(
        c, "UPDATE sales SET tax = tax + 0.01, total = total + 0.01 WHERE id = :s RETURNING id", s=w["pos3"]
    )


async def _staff_discount_online(c, w):
    return await _sql(
        c,
        "UPDATE sales SET manual_discount = 0.01, total = total - 0.01 WHERE id = :s RETURNING id",
        s=w["online1"],
    )


async def _refund_tax_off_its_line(c, w):
    # The refund's tax follows, so only the share of the line's tax is wrong.
    await _sql(c, "UPDATE refunds SET tax = tax + 0.01 WHERE id = :r", r=w["refund_pos1"])
    return await _sql(
        c,
        "UPDATE refund_lines SET tax = tax + 0.01 WHERE refund_id = :r RETURNING sale_line_id",
        r=w["refund_pos1"],
    )


async def _refund_tax_off_its_lines(c, w):
    return await _sql(c, "UPDATE refunds SET tax = tax + 0.01 WHERE id = :r RETURNING id", r=w["refund_pos6"])


async def _order_line_of_nothing(c, w):
    return await _sql(
        c,
        "UPDATE sale_order_items SET item_id = gen_random_uuid() WHERE order_id = :o RETURNING id",
        o=w["order5"],
    )


async def _idempotency_key_lost_its_sale(c, w):
    return await _sql(
        c,
        "UPDATE idempotency_keys SET result_id = gen_random_uuid() WHERE result_id = :s RETURNING id",
        s=w["online2"],
    )


async def _email_not_in_the_one_form(c, w):
    # Full-width letters, as an earlier petpos stored them.
    return await _sql(c, "UPDATE users SET email = 'ＡＮＮ' || email WHERE id = :u RETURNING id", u=w["ann"])


async def _email_ends_in_a_dot(c, w):
    return await _sql(c, "UPDATE users SET email = email || '.' WHERE id = :u RETURNING id", u=w["ben"])


async def _email_domain_starts_with_a_hyphen(c, w):
    hyphen = "UPDATE users SET email = replace(email, '@', '@-') WHERE id = :u RETURNING id"
    return await _sql(c, hyphen, u=w["ben"])


async def _email_with_an_encoded_word(c, w):
    encoded = "UPDATE users SET email = '=?utf-8?q?' || email WHERE id = :u RETURNING id"
    return await _sql(c, encoded, u=w["ben"])


async def _email_with_a_zero_width_space(c, w):
    return await _sql(c, "UPDATE users SET email = E'\\u200b' || email WHERE id = :u RETURNING id", u=w["cy"])


async def _sku_not_in_the_one_form(c, w):
    # An accent as its own mark, as an earlier petpos stored it.
    statement = "UPDATE products SET sku = sku || E'E\\u0301' WHERE id = :p RETURNING id"
    return await _sql(c, statement, p=w["chew"])


async def _coupon_code_with_a_zero_width_space(c, w):
    return await _sql(c, "UPDATE coupons SET code = code || E'\\u200b' WHERE code = 'FIVE' RETURNING id")


CORRUPTIONS = [
    Corruption("stock off by one", "stock", _stock_off_by_one),
    Corruption("stock below zero", "stock", _stock_below_zero, ("ck_products_stock_nonneg",)),
    Corruption("a sale's unit never left stock", "sale-stock", _sale_movement_lost),
    Corruption("points off the ledger", "points", _points_off),
    Corruption("points below zero", "points", _points_below_zero, ("ck_users_loyalty_points_nonneg",)),
    Corruption("EARN entry off", "sale-ledger", _ledger_earn_off),
    Corruption("coupon use uncounted", "coupon-uses", _coupon_use_uncounted),
    Corruption(
        "coupon over its limit", "coupon-uses", _coupon_over_its_limit, ("ck_coupons_usage_within_limit",)
    ),
    Corruption(
        "two pending requests",
        "one-pending-request",
        _second_pending_request,
        ("uq_adoption_requests_pending_pet",),
    ),
    Corruption("pending pet shown available", "pet-status", _pending_pet_shown_available),
    Corruption("adopted pet without approval", "pet-status", _adopted_pet_without_approval),
    Corruption("cancelled by staff", "adoption-decisions", _cancelled_by_staff),
    Corruption(
        "decided by no one",
        "adoption-decisions",
        _decided_by_no_one,
        ("ck_adoption_requests_decided_by_iff_closed",),
    ),
    Corruption(
        "order and sale of different customers", "checked-out-orders", _checked_out_order_of_another_customer
    ),
    Corruption(
        "cancelled order with a sale",
        "checked-out-orders",
        _cancelled_order_with_a_sale,
        ("ck_sale_orders_sale_when_checked_out",),
    ),
    Corruption("POS sale without its order", "pos-sales", _pos_sale_without_its_order),
    Corruption("merged order with lines", "merged-orders", _merged_order_with_lines),
    Corruption(
        "merged order without target",
        "merged-orders",
        _merged_order_without_target,
        ("ck_sale_orders_merged_into_when_merged",),
    ),
    Corruption("subtotal off its lines", "sale-totals", _subtotal_off),
    Corruption("net cent on the wrong line", "sale-totals", _net_cent_on_the_wrong_line),
    Corruption("coupon discount off", "sale-totals", _coupon_discount_off),
    Corruption("line tax off its rate", "sale-totals", _line_tax_off_its_rate),
    Corruption("sale tax off its lines", "sale-totals", _sale_tax_off_its_lines),
    Corruption("staff discount on an online sale", "sale-totals", _staff_discount_online),
    Corruption("points earned off the total", "sale-points", _points_earned_off),
    Corruption("status says refunded", "sale-refunds", _refunded_status_wrong),
    Corruption(
        "refunded more than the total",
        "sale-refunds",
        _refunded_amount_over_total,
        ("ck_sales_refund_within_total",),
    ),
    Corruption("refunded units without a refund", "refunded-lines", _refunded_quantity_without_refund),
    Corruption(
        "refunded more units than sold",
        "refunded-lines",
        _refunded_more_than_sold,
        ("ck_sale_lines_refund_within_quantity",),
    ),
    Corruption("refund tax off its line", "refunded-lines", _refund_tax_off_its_line),
    Corruption(
        "refunded line of no units",
        "refunded-lines",
        _refunded_line_of_no_units,
        (
            "ck_sale_lines_quantity_in_range",
            "ck_sale_lines_refund_within_quantity",
            "ck_sale_lines_total_adds_up",
        ),
    ),
    Corruption("refund amount off its lines", "refunds", _refund_amount_off),
    Corruption("refund tax off its lines", "refunds", _refund_tax_off_its_lines),
    Corruption("order line of no product", "line-items", _order_line_of_nothing),
    Corruption("idempotency key without its sale", "idempotency-keys", _idempotency_key_lost_its_sale),
    *(Corruption(*corruption) for corruption in SHIFT_CORRUPTIONS),
    Corruption("email not in NFKC", "sign-in-emails", _email_not_in_the_one_form),
    Corruption("email ending in a dot", "sign-in-emails", _email_ends_in_a_dot),
    Corruption("email domain starting with a hyphen", "sign-in-emails", _email_domain_starts_with_a_hyphen),
    Corruption("email with a zero-width space", "sign-in-emails", _email_with_a_zero_width_space),
    Corruption("email with an encoded word", "sign-in-emails", _email_with_an_encoded_word),
    Corruption("SKU not in NFKC", "lookup-codes", _sku_not_in_the_one_form),
    Corruption("coupon code with a zero-width space", "lookup-codes", _coupon_code_with_a_zero_width_space),
]


@asynccontextmanager
async def constraints_dropped(db, names: tuple[str, ...]):
    """Drop constraints or unique indexes; afterwards empty the tables and put them back as they were."""
    restore: list[str] = []
    async with db.engine.begin() as connection:
        for name in names:
            found = (
                await connection.execute(
                    text(
                        "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conname = :n"
                    ),
                    {"n": name},
                )
            ).first()
            if found is not None:
                table, definition = found
                await connection.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
                restore.append(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            else:
                definition = await connection.scalar(
                    text("SELECT pg_get_indexdef(to_regclass(:n))"), {"n": name}
                )
                assert definition, f"no constraint or index {name}"
                await connection.execute(text(f"DROP INDEX {name}"))
                restore.append(definition)
    try:
        yield
    finally:
        if restore:
            async with db.engine.begin() as connection:
                tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
                for statement in restore:
                    await connection.execute(text(statement))


CORRUPTIONS = [
    Corruption(
        c.name,
        c.invariant,
        c.apply,
        c.constraints,
        in_process=any(o.invariant == c.invariant for o in CORRUPTIONS[:i]),
    )
    for i, c in enumerate(CORRUPTIONS)
]


async def run_check(database_url: str, db, *, in_process: bool) -> tuple[int, str]:
    if in_process:
        out = io.StringIO()
        return check.report(await check.run_checks(db.engine), out), out.getvalue()
    result = petpos(database_url, "check")
    return result.returncode, result.stdout


def test_every_invariant_has_a_corruption_test():
    assert {c.invariant for c in CORRUPTIONS} == {i.name for i in check.INVARIANTS}


@pytest.mark.parametrize("corruption", CORRUPTIONS, ids=lambda c: c.name.replace(" ", "-"))
async def test_a_broken_invariant_is_named_with_the_broken_row(corruption, database_url, db, world):
    async with constraints_dropped(db, corruption.constraints):
        async with db.engine.begin() as connection:
            broken = await corruption.apply(connection, world)
        assert broken and broken != "None"
        code, output = await run_check(database_url, db, in_process=corruption.in_process)
        assert code == 1, output
        assert broken in section(output, corruption.invariant), output
        assert " invariants violated, " in output.splitlines()[-1]


async def test_random_sales_and_refunds_made_through_the_api_keep_every_invariant(db, gql, users):
    """Odd prices, quantities, line discounts, staff discounts, coupons, points, tax, partial refunds
    in any order: the checks agree with the services' own rounding (fixed seed, so a failure can be
    replayed)."""
    from random import Random

    from tests.check import world as api

    rng = Random(12)
    _, staff = await users.signed_in("STAFF")
    _, admin = await users.signed_in("ADMIN")
    customer, _ = await users.signed_in()
    rate = (await api._ok(gql, api.TAX_RATE, {"i": {"name": "r", "rate": "7.125"}}, admin))["taxRate"]["id"]
    new = {"sku": "r", "name": "r", "category": "TOY", "price": "0.07", "stock": 100000}
    product = (await api._ok(gql, api.PRODUCT, {"i": new}, staff))["product"]["id"]
    new = {"sku": "t", "name": "t", "category": "TOY", "price": "0.07", "stock": 100000, "taxRateId": rate}
    taxed = (await api._ok(gql, api.PRODUCT, {"i": new}, staff))["product"]["id"]
    for code, kind, value in (("P7", "PERCENT", "7"), ("P33", "PERCENT", "33.33"), ("F3", "FIXED", "3.01")):
        await api._ok(gql, api.COUPON, {"i": {"code": code, "kind": kind, "value": value}}, admin)
    for n in range(12):
        made = await api._ok(gql, api.CREATE_ORDER, {"i": {"customerId": str(customer.id)}}, staff)
        order = made["order"]
        for _ in range(rng.randint(1, 5)):
            quantity, price = rng.randint(1, 7), f"{rng.randint(1, 5000) / 100:.2f}"
            item = {
                "orderId": order["id"],
                "itemType": "PRODUCT",
                "itemId": rng.choice([product, taxed]),
                "quantity": quantity,
                "mode": "CUSTOM",
                "unitPrice": price,
                "discount": f"{rng.randint(0, 100) / 100:.2f}",
            }
            await api._ok(gql, api.ADD_ITEM, {"i": item}, staff)
        percent = rng.choice([None, "5", "12.5", "20"])
        if percent:
            await api._ok(gql, api.DISCOUNT, {"o": order["id"], "p": percent}, staff)
        checkout = {
            "orderId": order["id"],
            "idempotencyKey": f"r{n}",
            "paymentMethod": "CARD",
            "couponCode": rng.choice([None, "p7", "p33", "f3"]),
            "redeemPoints": rng.choice([0, 0, 3, 17]),
        }
        result = await gql(api.CHECKOUT_ORDER, {"i": checkout}, token=staff)
        sale = result["data"]["checkoutSaleOrder"]["sale"]
        if sale is None:  # not enough points yet, or a coupon worth more than the sale: fine, go on
            continue
        for k, line in enumerate(sale["lines"]):
            if rng.random() < 0.5:
                refund = {
                    "saleId": sale["id"],
                    "lines": [{"saleLineId": line["id"], "quantity": 1}],
                    "reason": "r",
                    "idempotencyKey": f"r{n}-{k}",
                }
                await gql(api.REFUND, {"i": refund}, token=staff)
    await assert_invariants(db)
    async with db.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM refunds")) > 5


async def test_a_customer_sale_that_earns_no_points_checks_clean(db, gql, users):
    """Under 1.00 paid and no points redeemed: the sale has no ledger entries at all, which is
    right (a change of 0 points writes none), not entries on another account."""
    from tests.check import world as api

    _, staff = await users.signed_in("STAFF")
    _, token = await users.signed_in()
    new = {"sku": "c", "name": "c", "category": "TOY", "price": "0.50", "stock": 5}
    product = (await api._ok(gql, api.PRODUCT, {"i": new}, staff))["product"]["id"]
    await api._ok(gql, api.ADD_TO_CART, {"p": product, "q": 1}, token)
    await api._ok(gql, api.CHECKOUT, {"i": {"idempotencyKey": "cheap"}}, token)
    async with db.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM sales WHERE customer_id IS NOT NULL")) == 1
        assert await connection.scalar(text("SELECT count(*) FROM loyalty_ledger")) == 0
    await assert_invariants(db)


def test_every_invariant_is_documented_with_its_name():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "reliability.md").read_text()
    assert [i.name for i in check.INVARIANTS if f"| `{i.name}` |" not in doc] == []
    assert f"all {len(check.INVARIANTS)} invariants hold" in doc
