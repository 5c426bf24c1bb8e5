"""`petpos check`, term by term: for each rule of an invariant that test_check.py's corruptions do
not isolate, one damaged row, and the report must name that row with that rule's own problem text,
so removing the one rule fails its case even where another rule of the invariant fires on the row.
Every check and foreign-key constraint is dropped for the case: the check exists for a database
restored without them or changed by hand."""

import io

import pytest
from sqlalchemy import text

from app import check
from tests.check.test_check import _sql, constraints_dropped, section, snapshot, world  # noqa: F401

ONE = "(SELECT id FROM loyalty_ledger WHERE sale_id = :s AND reason = '{}' LIMIT 1)"


async def refund_movement_off(c, w):
    await _sql(
        c,
        "UPDATE stock_movements SET delta = delta + 1 WHERE id = (SELECT id FROM stock_movements "
        "WHERE reason = 'REFUND' AND product_id = :p "
        "AND note = (SELECT number FROM sales WHERE id = :s) LIMIT 1)",
        p=w["kibble"],
        s=w["online1"],
    )
    await _sql(c, "UPDATE products SET stock = stock + 1 WHERE id = :p", p=w["kibble"])
    return w["online1"]


def ledger_off(reason, change):
    async def apply(c, w):
        await _sql(
            c,
            f"UPDATE loyalty_ledger SET delta = delta + :d WHERE id = {ONE.format(reason)}",
            s=w["online2"],
            d=change,
        )
        await _sql(
            c, "UPDATE users SET loyalty_points = loyalty_points + :d WHERE id = :u", u=w["ann"], d=change
        )
        return w["online2"]

    return apply


async def ledger_on_another_account(c, w):
    await _sql(c, "UPDATE loyalty_ledger SET user_id = :b WHERE sale_id = :s", b=w["ben"], s=w["online1"])
    await _sql(
        c,
        "UPDATE users SET loyalty_points = "
        "coalesce((SELECT sum(delta) FROM loyalty_ledger l WHERE l.user_id = users.id), 0)",
    )
    return w["online1"]


async def earn_with_a_refund(c, w):
    await _sql(
        c,
        f"UPDATE loyalty_ledger SET refund_id = :r WHERE id = {ONE.format('EARN')}",
        s=w["online1"],
        r=w["refund1a"],
    )
    return w["online1"]


async def restore_of_another_sales_refund(c, w):
    await _sql(
        c,
        f"UPDATE loyalty_ledger SET refund_id = :r WHERE id = {ONE.format('RESTORE')}",
        s=w["online2"],
        r=w["refund1a"],
    )
    return w["online2"]


async def checked_out_without_sale(c, w):
    return await _sql(c, "UPDATE sale_orders SET sale_id = NULL WHERE id = :o RETURNING id", o=w["order3"])


async def order_sale_is_online(c, w):
    return await _sql(
        c, "UPDATE sale_orders SET sale_id = :s WHERE id = :o RETURNING id", s=w["online1"], o=w["order3"]
    )


async def order_sale_missing(c, w):
    return await _sql(
        c, "UPDATE sale_orders SET sale_id = gen_random_uuid() WHERE id = :o RETURNING id", o=w["order3"]
    )


async def order_lines_off_sale(c, w):
    return await _sql(
        c,
        "UPDATE sale_order_items SET unit_price = unit_price + 1 WHERE id = (SELECT id FROM "
        "sale_order_items WHERE order_id = :o LIMIT 1) RETURNING order_id",
        o=w["order3"],
    )


async def online_sale_of_an_order(c, w):
    await _sql(c, "UPDATE sale_orders SET sale_id = :s WHERE id = :o", s=w["online1"], o=w["order3"])
    return w["online1"]


async def draft_merged_into(c, w):
    return await _sql(
        c,
        "UPDATE sale_orders SET merged_into_id = :t WHERE id = :o RETURNING id",
        t=w["order1"],
        o=w["order5"],
    )


async def merged_into_itself(c, w):
    return await _sql(
        c, "UPDATE sale_orders SET merged_into_id = id WHERE id = :o RETURNING id", o=w["order2"]
    )


async def merged_into_nothing(c, w):
    return await _sql(
        c,
        "UPDATE sale_orders SET merged_into_id = gen_random_uuid() WHERE id = :o RETURNING id",
        o=w["order2"],
    )


def sale_update(sale, sql):
    async def apply(c, w):
        return await _sql(c, f"UPDATE sales SET {sql} WHERE id = :s RETURNING id", s=w[sale])

    return apply


async def sale_without_lines(c, w):
    await _sql(c, "DELETE FROM sale_lines WHERE sale_id = :s", s=w["pos3"])
    return w["pos3"]


async def refund_line_amount_off(c, w):
    await _sql(c, "UPDATE refunds SET amount = amount + 0.01 WHERE id = :r", r=w["refund1a"])
    await _sql(c, "UPDATE sales SET refunded_amount = refunded_amount + 0.01 WHERE id = :s", s=w["online1"])
    return await _sql(
        c,
        "UPDATE refund_lines SET amount = amount + 0.01 WHERE refund_id = :r RETURNING sale_line_id",
        r=w["refund1a"],
    )


async def refund_without_lines(c, w):
    await _sql(c, "DELETE FROM refund_lines WHERE refund_id = :r", r=w["refund_pos6"])
    return w["refund_pos6"]


async def refund_of_another_sales_line(c, w):
    await _sql(
        c,
        "UPDATE refund_lines SET sale_line_id = :l WHERE refund_id = :r",
        l=w.lines["pos3"]["bowl"],
        r=w["refund1a"],
    )
    return w["refund1a"]


async def sale_line_of_nothing(c, w):
    return await _sql(
        c,
        "UPDATE sale_lines SET item_id = gen_random_uuid() WHERE id = :l RETURNING id",
        l=w.lines["pos3"]["bowl"],
    )


def key_update(sale, sql, **extra):
    async def apply(c, w):
        return await _sql(
            c,
            f"UPDATE idempotency_keys SET {sql} WHERE result_id = :s RETURNING id",
            s=w[sale],
            **{k: w[v] for k, v in extra.items()},
        )

    return apply


async def sale_without_tenders(c, w):
    await _sql(c, "DELETE FROM sale_tenders WHERE sale_id = :s", s=w["pos3"])
    return w["pos3"]


async def over_short_off(c, w):
    return await _sql(
        c, "UPDATE cash_shifts SET over_short = over_short + 1 WHERE id = :s RETURNING id", s=w["shift_front"]
    )


async def open_shift_counted(c, w):
    return await _sql(
        c, "UPDATE cash_shifts SET counted_cash = 1 WHERE id = :s RETURNING id", s=w["shift_front_2"]
    )


async def open_shift_other_case(c, w):
    return await _sql(
        c,
        "INSERT INTO cash_shifts (id, register, status, opened_by, opening_float, opened_at) "
        "VALUES (gen_random_uuid(), 'FRONT', 'OPEN', :u, 0, now() + interval '1 hour') RETURNING id",
        u=w["staff"],
    )


async def sku_with_a_space(c, w):
    return await _sql(c, "UPDATE products SET sku = 'KIB BLE' WHERE id = :p RETURNING id", p=w["kibble"])


PROBES = [
    ("sale-stock", "put back in stock", refund_movement_off),
    ("sale-ledger", "REDEEM entries add up", ledger_off("REDEEM", -1)),
    ("sale-ledger", "RESTORE entries add up", ledger_off("RESTORE", 1)),
    ("sale-ledger", "REVERSE entries add up", ledger_off("REVERSE", 1)),
    ("sale-ledger", "on another account", ledger_on_another_account),
    ("sale-ledger", "EARN and REDEEM entries come with the sale", earn_with_a_refund),
    ("sale-ledger", "names a refund of another sale", restore_of_another_sales_refund),
    ("checked-out-orders", "checked out without a sale", checked_out_without_sale),
    ("checked-out-orders", "its sale does not exist", order_sale_missing),
    ("checked-out-orders", "its sale is an ONLINE sale", order_sale_is_online),
    ("checked-out-orders", "the order's lines come to", order_lines_off_sale),
    ("pos-sales", "ONLINE sale of a checked-out order", online_sale_of_an_order),
    ("merged-orders", "but merged into another order", draft_merged_into),
    ("merged-orders", "its target does not exist", merged_into_nothing),
    ("merged-orders", "merged into itself", merged_into_itself),
    ("sale-totals", "no lines", sale_without_lines),
    (
        "sale-totals",
        "subtotal 20.31, its lines add up",
        sale_update("pos3", "subtotal = subtotal + 1, total = total + 1"),
    ),
    ("sale-totals", "due before tax", sale_update("pos3", "subtotal = subtotal + 1, total = total + 1")),
    ("sale-totals", "is not subtotal", sale_update("pos3", "total = total + 1")),
    ("sale-totals", "staff discount 100.00 on a subtotal", sale_update("pos1", "manual_discount = 100")),
    (
        "sale-totals",
        "a staff discount on an online sale",
        sale_update("online1", "manual_discount = 0.01, total = total - 0.01"),
    ),
    ("sale-totals", "without a coupon", sale_update("online1", "coupon_id = NULL")),
    ("sale-totals", "its coupon code is not its coupon's", sale_update("online1", "coupon_code = 'OTHER'")),
    (
        "sale-totals",
        "its coupon gives",
        sale_update("pos1", "coupon_discount = coupon_discount + 0.01, total = total - 0.01"),
    ),
    ("sale-totals", "for 32 points", sale_update("online2", "points_redeemed = points_redeemed + 1")),
    ("sale-totals", "cash: tendered", sale_update("pos1", "change = change + 1")),
    ("sale-totals", "an ONLINE sale paid CARD", sale_update("online1", "payment_method = 'CARD'")),
    ("sale-points", "points on a sale without a customer", sale_update("pos1", "customer_id = NULL")),
    ("sale-points", "points restored of", sale_update("online2", "points_restored = points_redeemed + 1")),
    ("sale-points", "fully refunded, but", sale_update("online2", "points_restored = 0")),
    ("sale-points", "points reversed of", sale_update("online2", "points_reversed = points_earned + 1")),
    (
        "sale-refunds",
        "its refunds add up to",
        sale_update("online1", "refunded_amount = refunded_amount + 0.01"),
    ),
    ("sale-refunds", "its refunds reversed", sale_update("online2", "points_reversed = points_reversed + 1")),
    ("sale-refunds", "its refunds restored", sale_update("online2", "points_restored = points_restored + 1")),
    ("refunded-lines", "units of a net total of", refund_line_amount_off),
    ("refunds", "no lines", refund_without_lines),
    ("refunds", "refunds a line of another sale", refund_of_another_sales_line),
    ("line-items", "does not exist", sale_line_of_nothing),
    ("idempotency-keys", "an unknown operation", key_update("online1", "operation = 'nope'")),
    (
        "idempotency-keys",
        "its refund does not exist",
        key_update("refund1a", "result_id = gen_random_uuid()"),
    ),
    ("idempotency-keys", "made by another account", key_update("online1", "user_id = :b", b="ben")),
    (
        "idempotency-keys",
        "checkoutSaleOrder made an ONLINE sale",
        key_update("online1", "operation = 'checkoutSaleOrder'"),
    ),
    ("sale-tenders", "no tenders", sale_without_tenders),
    ("sale-tenders", "its first tender is", sale_update("pos3", "payment_method = 'CASH'")),
    (
        "sale-tenders",
        "amount tendered 101.00",
        sale_update("pos1", "amount_tendered = amount_tendered + 1, change = change + 1"),
    ),
    ("sale-tenders", "without a cash tender", sale_update("pos3", "amount_tendered = total")),
    ("shift-cash", "over/short", over_short_off),
    ("shift-cash", "an open shift with closing figures", open_shift_counted),
    ("one-open-shift", "OPEN shifts", open_shift_other_case),
    ("lookup-codes", "holds a space", sku_with_a_space),
]


EVERY_CONSTRAINT = (
    "SELECT conname FROM pg_constraint WHERE contype IN ('c', 'f') AND connamespace = 'public'::regnamespace"
)


@pytest.mark.parametrize("invariant,expect,apply", PROBES, ids=[f"{p[0]}:{p[1]}" for p in PROBES])
async def test_a_damaged_row_is_named_with_the_problem_of_its_rule(
    invariant,
    expect,
    apply,
    database_url,
    db,
    world,  # noqa: F811 (the fixture imported above)
):
    async with db.engine.begin() as c:
        found = await c.execute(text(EVERY_CONSTRAINT))
        names = [*found.scalars(), "uq_cash_shifts_open_register"]
    async with constraints_dropped(db, tuple(names)):
        async with db.engine.begin() as c:
            broken = await apply(c, world)
        assert broken and broken != "None"
        out = io.StringIO()
        check.report(await check.run_checks(db.engine), out)
        rows = [l for l in section(out.getvalue(), invariant).splitlines() if broken in l]
        assert rows and any(expect in l for l in rows), out.getvalue()
