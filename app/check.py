"""`petpos check`: every invariant the data keeps, verified with one set-based query each.

The queries run in one REPEATABLE READ READ ONLY transaction, so they all see one snapshot
(every mutation commits whole, so any snapshot of a healthy database keeps every invariant)
and none of them can write. Each query returns one row per violation: the ids involved and a
`problem` saying what is wrong; never names, emails, phones or any other personal data.

Some of these rules are also backed by a constraint (stock >= 0, one PENDING request per
pet, …); they are checked all the same, so a database restored without its constraints, or
changed by hand, is caught too. Every query is a single pass over its tables: aggregates
grouped by key and joined by hash, no per-row subqueries (bench/check_scale.py EXPLAINs them).
"""

from __future__ import annotations

import functools
import itertools
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.domain import fields
from app.domain.accounts import rules


@dataclass(frozen=True)
class Invariant:
    name: str
    promise: str
    # Rows: the ids involved (NULL ones are left out of the report), then `problem`.
    sql: str


def _violations(select: str, order_by: str) -> str:
    """Keep the rows of `select` that name a problem (concat_ws of the failed rules is '' otherwise)."""
    return f"SELECT * FROM ({select}) checked WHERE problem <> '' ORDER BY {order_by}"


def _balance(table: str, key: str, column: str, ledger: str, owner: str, shown: str, entries: str) -> str:
    """The rows of `table` whose running balance `column` is not the sum of their `ledger` entries'
    deltas, or is below zero; `shown` is how the balance reads in a problem, with %s for it."""
    return _violations(
        f"""
    SELECT t.id AS {key}, concat_ws('; ',
        CASE WHEN t.{column} <> coalesce(l.total, 0)
             THEN format('{shown}, its {entries} add up to %s', t.{column}, coalesce(l.total, 0)) END,
        CASE WHEN t.{column} < 0 THEN format('{shown} is below zero', t.{column}) END) AS problem
    FROM {table} t
    LEFT JOIN (SELECT {owner}, sum(delta) AS total FROM {ledger} GROUP BY {owner}) l ON l.{owner} = t.id""",
        key,
    )


STOCK = Invariant(
    "stock",
    "a product's stock equals the sum of its stock movements and is never negative",
    _balance("products", "product", "stock", "stock_movements", "product_id", "stock %s", "movements"),
)

# A sale's SALE movements carry its number as their note, as do its refunds' REFUND movements.
SALE_STOCK = Invariant(
    "sale-stock",
    "each sale took exactly its products out of stock (SALE movements) and its refunds put "
    "exactly the refunded units back (REFUND movements)",
    _violations(
        """
    WITH sold AS (
        SELECT s.id AS sale, s.number, l.item_id AS product,
               sum(l.quantity) AS sold, sum(l.refunded_quantity) AS refunded
        FROM sale_lines l JOIN sales s ON s.id = l.sale_id
        WHERE l.item_type = 'PRODUCT'
        GROUP BY s.id, l.item_id),
    moved AS (
        SELECT note AS number, product_id AS product,
               -coalesce(sum(delta) FILTER (WHERE reason = 'SALE'), 0) AS sold,
               coalesce(sum(delta) FILTER (WHERE reason = 'REFUND'), 0) AS refunded
        FROM stock_movements WHERE reason IN ('SALE', 'REFUND')
        GROUP BY note, product_id)
    SELECT sold.sale, coalesce(sold.number, moved.number) AS sale_number,
           coalesce(sold.product, moved.product) AS product, concat_ws('; ',
        CASE WHEN coalesce(sold.sold, 0) <> coalesce(moved.sold, 0)
             THEN format('%s sold, %s taken out of stock', coalesce(sold.sold, 0),
                         coalesce(moved.sold, 0)) END,
        CASE WHEN coalesce(sold.refunded, 0) <> coalesce(moved.refunded, 0)
             THEN format('%s refunded, %s put back in stock', coalesce(sold.refunded, 0),
                         coalesce(moved.refunded, 0)) END) AS problem
    FROM sold FULL JOIN moved ON moved.number = sold.number AND moved.product = sold.product""",
        "sale_number, product",
    ),
)

POINTS = Invariant(
    "points",
    "an account's loyalty points equal the sum of its ledger and are never negative",
    _balance("users", '"user"', "loyalty_points", "loyalty_ledger", "user_id", "%s points", "ledger entries"),
)

SALE_LEDGER = Invariant(
    "sale-ledger",
    "a sale's ledger entries are its points, on its customer: EARN its points earned, "
    "REDEEM its points redeemed (with the sale), RESTORE and REVERSE what its refunds gave back and "
    "took back (with a refund of that sale)",
    _violations(
        """
    SELECT s.id AS sale, concat_ws('; ',
        CASE WHEN coalesce(sum(l.delta) FILTER (WHERE l.reason = 'EARN'), 0) <> s.points_earned
             THEN format('%s points earned, EARN entries add up to %s', s.points_earned,
                         coalesce(sum(l.delta) FILTER (WHERE l.reason = 'EARN'), 0)) END,
        CASE WHEN coalesce(-sum(l.delta) FILTER (WHERE l.reason = 'REDEEM'), 0) <> s.points_redeemed
             THEN format('%s points redeemed, REDEEM entries add up to %s', s.points_redeemed,
                         coalesce(-sum(l.delta) FILTER (WHERE l.reason = 'REDEEM'), 0)) END,
        CASE WHEN coalesce(sum(l.delta) FILTER (WHERE l.reason = 'RESTORE'), 0) <> s.points_restored
             THEN format('%s points restored, RESTORE entries add up to %s', s.points_restored,
                         coalesce(sum(l.delta) FILTER (WHERE l.reason = 'RESTORE'), 0)) END,
        CASE WHEN coalesce(-sum(l.delta) FILTER (WHERE l.reason = 'REVERSE'), 0) <> s.points_reversed
             THEN format('%s points reversed, REVERSE entries add up to %s', s.points_reversed,
                         coalesce(-sum(l.delta) FILTER (WHERE l.reason = 'REVERSE'), 0)) END,
        CASE WHEN bool_or(l.id IS NOT NULL AND l.user_id IS DISTINCT FROM s.customer_id)
             THEN 'ledger entries on another account than the sale''s customer' END,
        CASE WHEN bool_or((l.refund_id IS NULL) <> (l.reason IN ('EARN', 'REDEEM')))
             THEN 'EARN and REDEEM entries come with the sale, RESTORE and REVERSE with a refund' END,
        CASE WHEN bool_or(r.sale_id <> s.id)
             THEN 'a ledger entry names a refund of another sale' END) AS problem
    FROM sales s
    LEFT JOIN loyalty_ledger l ON l.sale_id = s.id
    LEFT JOIN refunds r ON r.id = l.refund_id
    GROUP BY s.id""",
        "sale",
    ),
)

COUPON_USES = Invariant(
    "coupon-uses",
    "a coupon's times_used equals the number of sales that used it and stays within its usage limit",
    _violations(
        """
    SELECT c.id AS coupon, concat_ws('; ',
        CASE WHEN c.times_used <> coalesce(u.sales, 0)
             THEN format('times used %s, %s sales used it', c.times_used, coalesce(u.sales, 0)) END,
        CASE WHEN c.times_used > c.usage_limit
             THEN format('times used %s is over its usage limit %s', c.times_used,
                         c.usage_limit) END) AS problem
    FROM coupons c
    LEFT JOIN (SELECT coupon_id, count(*) AS sales FROM sales WHERE coupon_id IS NOT NULL
               GROUP BY coupon_id) u ON u.coupon_id = c.id""",
        "coupon",
    ),
)

ONE_PENDING_REQUEST = Invariant(
    "one-pending-request",
    "a pet has at most one PENDING adoption request",
    """
    SELECT pet_id AS pet, format('%s PENDING requests', count(*)) AS problem
    FROM adoption_requests WHERE status = 'PENDING'
    GROUP BY pet_id HAVING count(*) > 1
    ORDER BY pet_id""",
)

PET_STATUS = Invariant(
    "pet-status",
    "a pet's status agrees with its requests: PENDING with exactly one PENDING request, "
    "ADOPTED with exactly one APPROVED request, AVAILABLE with neither",
    """
    SELECT p.id AS pet, format('%s, with %s PENDING and %s APPROVED requests',
                               p.status, coalesce(r.pending, 0), coalesce(r.approved, 0)) AS problem
    FROM pets p
    LEFT JOIN (SELECT pet_id, count(*) FILTER (WHERE status = 'PENDING') AS pending,
                      count(*) FILTER (WHERE status = 'APPROVED') AS approved
               FROM adoption_requests GROUP BY pet_id) r ON r.pet_id = p.id
    WHERE (p.status, coalesce(r.pending, 0), coalesce(r.approved, 0)) NOT IN
          (('AVAILABLE', 0, 0), ('PENDING', 1, 0), ('ADOPTED', 0, 1))
    ORDER BY p.id""",
)

ADOPTION_DECISIONS = Invariant(
    "adoption-decisions",
    "a CANCELLED request was closed by its applicant, an APPROVED or REJECTED one by staff",
    _violations(
        """
    SELECT r.pet_id AS pet, r.id AS request, concat_ws('; ',
        CASE WHEN r.status = 'CANCELLED' AND r.decided_by IS DISTINCT FROM r.applicant_id
             THEN CASE WHEN r.decided_by IS NULL THEN 'cancelled by no one'
                       ELSE 'cancelled by someone else than its applicant' END END,
        CASE WHEN r.status IN ('APPROVED', 'REJECTED') AND coalesce(u.role NOT IN ('STAFF', 'ADMIN'), true)
             THEN format('%s by %s', lower(r.status),
                         coalesce('a ' || u.role || ' account', 'no one')) END) AS problem
    FROM adoption_requests r
    LEFT JOIN users u ON u.id = r.decided_by
    WHERE r.status <> 'PENDING'""",
        "pet, request",
    ),
)

CHECKED_OUT_ORDERS = Invariant(
    "checked-out-orders",
    "a CHECKED_OUT sale order has exactly one sale: a POS sale of the order's customer "
    "with the order's lines; DRAFT, CANCELLED and MERGED orders have none",
    _violations(
        """
    WITH items AS (
        SELECT order_id, count(*) AS lines, sum(unit_price * quantity - discount) AS amount
        FROM sale_order_items GROUP BY order_id),
    sold AS (
        SELECT l.sale_id, count(*) AS lines
        FROM sale_lines l JOIN sale_orders o ON o.sale_id = l.sale_id GROUP BY l.sale_id)
    SELECT o.id AS sale_order, o.sale_id AS sale, concat_ws('; ',
        CASE WHEN o.status = 'CHECKED_OUT' AND o.sale_id IS NULL THEN 'checked out without a sale' END,
        CASE WHEN o.status <> 'CHECKED_OUT' AND o.sale_id IS NOT NULL
             THEN format('%s with a sale', o.status) END,
        CASE WHEN o.sale_id IS NOT NULL AND s.id IS NULL THEN 'its sale does not exist' END,
        CASE WHEN s.channel <> 'POS' THEN format('its sale is an %s sale', s.channel) END,
        CASE WHEN s.id IS NOT NULL AND s.customer_id IS DISTINCT FROM o.customer_id
             THEN 'its sale has another customer' END,
        CASE WHEN s.subtotal <> coalesce(i.amount, 0)
             THEN format('sale subtotal %s, the order''s lines come to %s', s.subtotal,
                         coalesce(i.amount, 0)) END,
        CASE WHEN s.id IS NOT NULL AND coalesce(sold.lines, 0) <> coalesce(i.lines, 0)
             THEN format('%s sale lines for %s order lines', coalesce(sold.lines, 0),
                         coalesce(i.lines, 0)) END
        ) AS problem
    FROM sale_orders o
    LEFT JOIN sales s ON s.id = o.sale_id
    LEFT JOIN items i ON i.order_id = o.id
    LEFT JOIN sold ON sold.sale_id = o.sale_id""",
        "sale_order",
    ),
)

POS_SALES = Invariant(
    "pos-sales",
    "every POS sale is the sale of one CHECKED_OUT order; an online sale belongs to no order",
    """
    SELECT s.id AS sale, CASE WHEN s.channel = 'POS' THEN 'a POS sale without a checked-out order'
                              ELSE format('an %s sale of a checked-out order', s.channel) END AS problem
    FROM sales s
    LEFT JOIN sale_orders o ON o.sale_id = s.id AND o.status = 'CHECKED_OUT'
    WHERE (s.channel = 'POS') <> (o.id IS NOT NULL)
    ORDER BY s.id""",
)

MERGED_ORDERS = Invariant(
    "merged-orders",
    "a MERGED sale order names its target, an existing other order, and has no lines left; "
    "no other order names a target",
    _violations(
        """
    SELECT o.id AS sale_order, o.merged_into_id AS merged_into, concat_ws('; ',
        CASE WHEN o.status = 'MERGED' AND o.merged_into_id IS NULL THEN 'merged into no order' END,
        CASE WHEN o.status <> 'MERGED' AND o.merged_into_id IS NOT NULL
             THEN format('%s but merged into another order', o.status) END,
        CASE WHEN o.merged_into_id IS NOT NULL AND t.id IS NULL THEN 'its target does not exist' END,
        CASE WHEN o.merged_into_id = o.id THEN 'merged into itself' END,
        CASE WHEN o.status = 'MERGED' AND i.lines > 0 THEN format('%s lines left', i.lines) END) AS problem
    FROM sale_orders o
    LEFT JOIN sale_orders t ON t.id = o.merged_into_id
    LEFT JOIN (SELECT order_id, count(*) AS lines FROM sale_order_items GROUP BY order_id) i
        ON i.order_id = o.id""",
        "sale_order",
    ),
)

# How app/domain/sales/recording.py relates the amounts: line_total = unit_price * quantity -
# discount (a constraint); subtotal = sum of line totals; the staff (manual) discount comes first,
# within the subtotal; coupon discount = PERCENT of what is left half-up to cents, or FIXED capped
# at it; points discount = points / 100; due = subtotal - the three discounts; net totals = due
# shared in proportion to the line totals (money.share: each share rounded down to cents, the cents
# left over going to the lines with the largest remainders), so they add up to it. A line's share
# in cents is due * line_total / (subtotal * 0.01): div() of the two (exact numerics) is the share
# rounded down, mod() what was left over, comparable between the lines of one sale, exactly.
# Each line's tax is its net total times its snapshot rate, half-up to cents (app/domain/sales/
# tax.py): / 100 on top of tax-exclusive prices, / (100 + rate) out of prices that include it;
# the sale's tax is their sum, and total = due, plus the tax when prices exclude it.
SALE_TOTALS = Invariant(
    "sale-totals",
    "a sale's amounts add up: subtotal = its line totals, the lines' net totals share subtotal - "
    "staff, coupon and points discounts in proportion, each line's tax is its net total times its "
    "rate, the sale's tax is theirs, total = the net totals (+ tax unless prices include it), the "
    "coupon and points discounts are what the coupon and the points give, cash change = tendered - total",
    _violations(
        """
    WITH lines AS (
        SELECT l.sale_id, sum(l.line_total) AS line_totals, sum(l.net_total) AS net_totals,
               sum(l.tax) AS line_taxes,
               bool_and(l.net_total - share.low IN (0, 0.01)) AS shares_in_range,
               max(share.rest) FILTER (WHERE l.net_total = share.low) AS kept_rest,
               min(share.rest) FILTER (WHERE l.net_total = share.low + 0.01) AS bumped_rest,
               bool_and(l.tax = CASE WHEN l.tax_rate IS NULL THEN 0
                                     WHEN s.prices_include_tax
                                     THEN round(l.net_total * l.tax_rate / (100 + l.tax_rate), 2)
                                     ELSE round(l.net_total * l.tax_rate / 100, 2) END) AS taxes_right
        FROM sale_lines l
        JOIN sales s ON s.id = l.sale_id
        CROSS JOIN LATERAL (
            SELECT s.subtotal - s.manual_discount - s.coupon_discount - s.points_discount AS due) d
        CROSS JOIN LATERAL (
            SELECT CASE WHEN s.subtotal = 0 THEN 0
                        ELSE div(d.due * l.line_total, s.subtotal * 0.01) * 0.01 END AS low,
                   CASE WHEN s.subtotal = 0 THEN 0
                        ELSE mod(d.due * l.line_total, s.subtotal * 0.01) END AS rest) share
        GROUP BY l.sale_id)
    SELECT s.id AS sale, concat_ws('; ',
        CASE WHEN l.sale_id IS NULL THEN 'no lines' END,
        CASE WHEN s.subtotal <> l.line_totals
             THEN format('subtotal %s, its lines add up to %s', s.subtotal, l.line_totals) END,
        CASE WHEN s.total <> d.due + CASE WHEN s.prices_include_tax THEN 0 ELSE s.tax END OR s.total < 0
             THEN format('total %s is not subtotal %s - staff discount %s - coupon discount %s - points '
                         'discount %s + tax %s (unless included)', s.total, s.subtotal, s.manual_discount,
                         s.coupon_discount, s.points_discount, s.tax) END,
        CASE WHEN s.manual_discount NOT BETWEEN 0 AND s.subtotal
             THEN format('staff discount %s on a subtotal of %s', s.manual_discount, s.subtotal) END,
        CASE WHEN s.channel = 'ONLINE' AND s.manual_discount <> 0
             THEN 'a staff discount on an online sale' END,
        CASE WHEN d.due <> l.net_totals
             THEN format('%s due before tax, its lines'' net totals add up to %s', d.due, l.net_totals) END,
        CASE WHEN NOT l.shares_in_range OR l.kept_rest > l.bumped_rest
             THEN 'its lines'' net totals are not what is due shared in proportion to the line totals' END,
        CASE WHEN NOT l.taxes_right THEN 'a line''s tax is not its net total times its rate' END,
        CASE WHEN s.tax <> l.line_taxes
             THEN format('tax %s, its lines'' taxes add up to %s', s.tax, l.line_taxes) END,
        CASE WHEN s.coupon_id IS NULL AND (s.coupon_discount <> 0 OR s.coupon_code IS NOT NULL)
             THEN 'a coupon discount or code without a coupon' END,
        CASE WHEN c.id IS NOT NULL AND s.coupon_code IS DISTINCT FROM c.code
             THEN 'its coupon code is not its coupon''s' END,
        CASE WHEN c.id IS NOT NULL AND s.coupon_discount <> coupon.gives
             THEN format('coupon discount %s, its coupon gives %s', s.coupon_discount, coupon.gives) END,
        CASE WHEN s.subtotal - s.manual_discount < c.min_subtotal
             THEN format('subtotal %s after the staff discount is below its coupon''s minimum %s',
                         s.subtotal - s.manual_discount, c.min_subtotal) END,
        CASE WHEN s.points_discount * 100 <> s.points_redeemed
             THEN format('points discount %s for %s points', s.points_discount, s.points_redeemed) END,
        CASE WHEN (s.payment_method = 'CASH' OR s.amount_tendered IS NOT NULL)
                  AND (s.amount_tendered < s.total OR s.change IS DISTINCT FROM s.amount_tendered - s.total)
             THEN format('cash: tendered %s, change %s on a total of %s',
                         s.amount_tendered, s.change, s.total) END,
        CASE WHEN (s.channel = 'ONLINE') <> (s.payment_method = 'ONLINE')
             THEN format('an %s sale paid %s', s.channel, s.payment_method) END) AS problem
    FROM sales s
    LEFT JOIN lines l ON l.sale_id = s.id
    LEFT JOIN coupons c ON c.id = s.coupon_id
    CROSS JOIN LATERAL (
        SELECT s.subtotal - s.manual_discount - s.coupon_discount - s.points_discount AS due) d
    CROSS JOIN LATERAL (SELECT s.subtotal - s.manual_discount AS base) b
    CROSS JOIN LATERAL (SELECT CASE c.kind WHEN 'PERCENT' THEN round(b.base * c.value / 100, 2)
                                           ELSE least(c.value, b.base) END AS gives) coupon""",
        "sale",
    ),
)

SALE_POINTS = Invariant(
    "sale-points",
    "a sale with a customer earns floor(total) points, one without earns and redeems none; "
    "refunds restore at most the points redeemed (all of them once fully refunded) and reverse at "
    "most the points earned",
    _violations(
        """
    SELECT s.id AS sale, concat_ws('; ',
        CASE WHEN s.customer_id IS NULL AND (s.points_earned, s.points_redeemed) <> (0, 0)
             THEN 'points on a sale without a customer' END,
        CASE WHEN s.customer_id IS NOT NULL AND s.points_earned <> floor(s.total)
             THEN format('%s points earned on a total of %s', s.points_earned, s.total) END,
        CASE WHEN s.points_restored NOT BETWEEN 0 AND s.points_redeemed
             THEN format('%s points restored of %s redeemed', s.points_restored, s.points_redeemed) END,
        CASE WHEN s.status = 'REFUNDED' AND s.points_restored <> s.points_redeemed
             THEN format('fully refunded, but %s of %s redeemed points restored',
                         s.points_restored, s.points_redeemed) END,
        CASE WHEN s.points_reversed NOT BETWEEN 0 AND s.points_earned
             THEN format('%s points reversed of %s earned', s.points_reversed,
                         s.points_earned) END) AS problem
    FROM sales s""",
        "sale",
    ),
)

SALE_REFUNDS = Invariant(
    "sale-refunds",
    "a sale's refunded amount and points are the sums of its refunds, never more than its "
    "total; its status is COMPLETED with nothing refunded, REFUNDED with every unit refunded, "
    "PARTIALLY_REFUNDED in between",
    _violations(
        """
    WITH refunded AS (
        SELECT sale_id, sum(amount) AS amount, sum(points_reversed) AS reversed,
               sum(points_restored) AS restored
        FROM refunds GROUP BY sale_id),
    units AS (
        SELECT sale_id, sum(quantity) AS sold, sum(refunded_quantity) AS refunded,
               bool_and(refunded_quantity = quantity) AS all_refunded
        FROM sale_lines GROUP BY sale_id)
    SELECT s.id AS sale, concat_ws('; ',
        CASE WHEN s.refunded_amount <> coalesce(r.amount, 0)
             THEN format('refunded amount %s, its refunds add up to %s', s.refunded_amount,
                         coalesce(r.amount, 0)) END,
        CASE WHEN s.refunded_amount NOT BETWEEN 0 AND s.total
             THEN format('refunded amount %s on a total of %s', s.refunded_amount, s.total) END,
        CASE WHEN s.points_reversed <> coalesce(r.reversed, 0)
             THEN format('%s points reversed, its refunds reversed %s', s.points_reversed,
                         coalesce(r.reversed, 0)) END,
        CASE WHEN s.points_restored <> coalesce(r.restored, 0)
             THEN format('%s points restored, its refunds restored %s', s.points_restored,
                         coalesce(r.restored, 0)) END,
        CASE WHEN s.status <> CASE WHEN coalesce(u.refunded, 0) = 0 THEN 'COMPLETED'
                                   WHEN u.all_refunded THEN 'REFUNDED' ELSE 'PARTIALLY_REFUNDED' END
             THEN format('%s with %s of %s units refunded', s.status, coalesce(u.refunded, 0),
                         coalesce(u.sold, 0)) END) AS problem
    FROM sales s
    LEFT JOIN refunded r ON r.sale_id = s.id
    LEFT JOIN units u ON u.sale_id = s.id""",
        "sale",
    ),
)

# refunds.py refunds each unit's share of the line's net total and of its tax on running totals, so
# what a line has returned over all its refunds is always cents(net_total * refunded_quantity /
# quantity), plus the same share of its tax when the tax came on top of the prices.
REFUNDED_LINES = Invariant(
    "refunded-lines",
    "a sale line's refunded quantity is the sum of its refund lines and never more than "
    "it sold; what they returned is its share of the line's net total and of its tax",
    _violations(
        """
    SELECT l.sale_id AS sale, l.id AS sale_line, concat_ws('; ',
        CASE WHEN l.refunded_quantity <> coalesce(r.quantity, 0)
             THEN format('%s units refunded, its refund lines add up to %s', l.refunded_quantity,
                         coalesce(r.quantity, 0)) END,
        CASE WHEN l.refunded_quantity NOT BETWEEN 0 AND l.quantity
             THEN format('%s of %s units refunded', l.refunded_quantity, l.quantity) END,
        CASE WHEN coalesce(r.amount, 0) <> round(l.net_total * l.refunded_quantity / nullif(l.quantity, 0), 2)
                  + CASE WHEN s.prices_include_tax THEN 0
                         ELSE round(l.tax * l.refunded_quantity / nullif(l.quantity, 0), 2) END
             THEN format('%s returned for %s of %s units of a net total of %s and tax of %s',
                         coalesce(r.amount, 0), l.refunded_quantity, l.quantity, l.net_total, l.tax) END,
        CASE WHEN coalesce(r.tax, 0) <> round(l.tax * l.refunded_quantity / nullif(l.quantity, 0), 2)
             THEN format('%s tax returned for %s of %s units of a line tax of %s', coalesce(r.tax, 0),
                         l.refunded_quantity, l.quantity, l.tax) END) AS problem
    FROM sale_lines l
    JOIN sales s ON s.id = l.sale_id
    LEFT JOIN (SELECT sale_line_id, sum(quantity) AS quantity, sum(amount) AS amount, sum(tax) AS tax
               FROM refund_lines GROUP BY sale_line_id) r ON r.sale_line_id = l.id""",
        "sale, sale_line",
    ),
)

REFUNDS = Invariant(
    "refunds",
    "a refund has lines, all of them lines of its own sale, and its amount and tax are their sums",
    _violations(
        """
    SELECT f.sale_id AS sale, f.id AS refund, concat_ws('; ',
        CASE WHEN count(rl.id) = 0 THEN 'no lines' END,
        CASE WHEN f.amount <> coalesce(sum(rl.amount), 0)
             THEN format('amount %s, its lines add up to %s', f.amount, coalesce(sum(rl.amount), 0)) END,
        CASE WHEN f.tax <> coalesce(sum(rl.tax), 0)
             THEN format('tax %s, its lines add up to %s', f.tax, coalesce(sum(rl.tax), 0)) END,
        CASE WHEN bool_or(sl.sale_id <> f.sale_id) THEN 'refunds a line of another sale' END) AS problem
    FROM refunds f
    LEFT JOIN refund_lines rl ON rl.refund_id = f.id
    LEFT JOIN sale_lines sl ON sl.id = rl.sale_line_id
    GROUP BY f.id""",
        "sale, refund",
    ),
)

# Items are a product or a service by item_type, with no foreign key across the two tables.
LINE_ITEMS = Invariant(
    "line-items",
    "every sale line and sale order line is an existing product or service of its item type",
    """
    SELECT l.sale_id AS sale, l.id AS sale_line, NULL::uuid AS sale_order, NULL::uuid AS order_line,
           format('%s %s does not exist', lower(l.item_type), l.item_id) AS problem
    FROM sale_lines l
    LEFT JOIN products p ON p.id = l.item_id AND l.item_type = 'PRODUCT'
    LEFT JOIN services v ON v.id = l.item_id AND l.item_type = 'SERVICE'
    WHERE p.id IS NULL AND v.id IS NULL
    UNION ALL
    SELECT NULL, NULL, i.order_id, i.id, format('%s %s does not exist', lower(i.item_type), i.item_id)
    FROM sale_order_items i
    LEFT JOIN products p ON p.id = i.item_id AND i.item_type = 'PRODUCT'
    LEFT JOIN services v ON v.id = i.item_id AND i.item_type = 'SERVICE'
    WHERE p.id IS NULL AND v.id IS NULL
    ORDER BY 1, 2, 3, 4""",
)

# The operations of app/domain/sales/checkout.py, pos/checkout.py and sales/refunds.py: each key
# is written with its result, made by the key's own account, in one transaction.
IDEMPOTENCY_KEYS = Invariant(
    "idempotency-keys",
    "an idempotency key's result exists and was made by the key's account: a sale for "
    "checkout (ONLINE) and checkoutSaleOrder (POS), a refund for refundSale",
    _violations(
        """
    SELECT k.id AS idempotency_key, k.result_id AS result, concat_ws('; ',
        CASE WHEN k.operation NOT IN ('checkout', 'checkoutSaleOrder', 'refundSale')
             THEN 'an unknown operation' END,
        CASE WHEN k.operation IN ('checkout', 'checkoutSaleOrder') AND s.id IS NULL
             THEN 'its sale does not exist' END,
        CASE WHEN k.operation = 'refundSale' AND f.id IS NULL THEN 'its refund does not exist' END,
        CASE WHEN coalesce(s.created_by, f.created_by) <> k.user_id
             THEN 'its result was made by another account' END,
        CASE WHEN s.channel <> CASE k.operation WHEN 'checkout' THEN 'ONLINE' ELSE 'POS' END
             THEN format('%s made an %s sale', k.operation, s.channel) END) AS problem
    FROM idempotency_keys k
    LEFT JOIN sales s ON s.id = k.result_id AND k.operation IN ('checkout', 'checkoutSaleOrder')
    LEFT JOIN refunds f ON f.id = k.result_id AND k.operation = 'refundSale'""",
        "idempotency_key",
    ),
)

# Cash taken or given back before drawer shifts existed (back-filled by migration 0009) has no
# shift: everything since the first shift was opened must have one. Uncorrelated, so it runs once.
FIRST_SHIFT = "(SELECT min(opened_at) FROM cash_shifts)"

SALE_TENDERS = Invariant(
    "sale-tenders",
    "a sale's tenders add up to its total + change, the first one is its payment method, card and "
    "online ones alone never exceed the total, amount tendered (what they add up to) and change are set "
    "exactly when one is cash, and cash taken since drawer shifts exist is in a shift",
    _violations(
        f"""
    WITH t AS (
        SELECT sale_id, sum(amount) AS paid,
               coalesce(sum(amount) FILTER (WHERE method <> 'CASH'), 0) AS not_cash,
               bool_or(method = 'CASH') AS cash, (array_agg(method ORDER BY position))[1] AS first
        FROM sale_tenders GROUP BY sale_id)
    SELECT s.id AS sale, concat_ws('; ',
        CASE WHEN t.sale_id IS NULL THEN 'no tenders' END,
        CASE WHEN t.paid <> s.total + coalesce(s.change, 0)
             THEN format('tenders add up to %s, total %s + change %s', t.paid, s.total, coalesce(s.change, 0))
             END,
        CASE WHEN t.first <> s.payment_method
             THEN format('paid %s, its first tender is %s', s.payment_method, t.first) END,
        CASE WHEN t.not_cash > s.total
             THEN format('card and online tenders of %s on a total of %s', t.not_cash, s.total) END,
        CASE WHEN t.cash AND s.amount_tendered IS DISTINCT FROM t.paid
             THEN format('amount tendered %s, its tenders add up to %s', s.amount_tendered, t.paid) END,
        CASE WHEN NOT t.cash AND (s.amount_tendered IS NOT NULL OR s.change IS NOT NULL)
             THEN 'cash tendered or change without a cash tender' END,
        CASE WHEN t.cash AND s.shift_id IS NULL AND s.created_at >= {FIRST_SHIFT}
             THEN 'cash taken outside a drawer shift' END) AS problem
    FROM sales s LEFT JOIN t ON t.sale_id = s.id""",
        "sale",
    ),
)

CASH_REFUNDS = Invariant(
    "cash-refunds",
    "a cash refund made since drawer shifts exist came out of a shift's drawer",
    _violations(
        f"""
    SELECT r.id AS refund,
           CASE WHEN r.method = 'CASH' AND r.shift_id IS NULL AND r.created_at >= {FIRST_SHIFT}
                THEN 'cash refunded outside a drawer shift' ELSE '' END AS problem
    FROM refunds r""",
        "refund",
    ),
)

SHIFT_CASH = Invariant(
    "shift-cash",
    "a closed shift's expected cash = opening float + cash sales (cash tendered less change) - cash "
    "refunds + cash movements, and its over/short = counted - expected; an open shift has no closing figures",
    _violations(
        """
    WITH cash AS (
        SELECT sale_id, sum(amount) AS tendered FROM sale_tenders WHERE method = 'CASH' GROUP BY sale_id),
    sold AS (
        SELECT s.shift_id, sum(c.tendered - coalesce(s.change, 0)) AS cash
        FROM sales s JOIN cash c ON c.sale_id = s.id WHERE s.shift_id IS NOT NULL GROUP BY s.shift_id),
    refunded AS (
        SELECT shift_id, sum(amount) AS cash FROM refunds
        WHERE method = 'CASH' AND shift_id IS NOT NULL GROUP BY shift_id),
    moved AS (SELECT shift_id, sum(amount) AS cash FROM cash_movements GROUP BY shift_id)
    SELECT sh.id AS shift, concat_ws('; ',
        CASE WHEN sh.status = 'CLOSED' AND sh.expected_cash IS DISTINCT FROM
                  sh.opening_float + coalesce(sold.cash, 0) - coalesce(refunded.cash, 0)
                  + coalesce(moved.cash, 0)
             THEN format('expected cash %s, float %s + cash sales %s - cash refunds %s + movements %s',
                         sh.expected_cash, sh.opening_float, coalesce(sold.cash, 0),
                         coalesce(refunded.cash, 0), coalesce(moved.cash, 0)) END,
        CASE WHEN sh.status = 'CLOSED' AND sh.over_short IS DISTINCT FROM sh.counted_cash - sh.expected_cash
             THEN format('over/short %s, counted %s - expected %s', sh.over_short, sh.counted_cash,
                         sh.expected_cash) END,
        CASE WHEN sh.status = 'OPEN' AND (sh.counted_cash IS NOT NULL OR sh.expected_cash IS NOT NULL
                  OR sh.over_short IS NOT NULL OR sh.closed_at IS NOT NULL)
             THEN 'an open shift with closing figures' END) AS problem
    FROM cash_shifts sh
    LEFT JOIN sold ON sold.shift_id = sh.id
    LEFT JOIN refunded ON refunded.shift_id = sh.id
    LEFT JOIN moved ON moved.shift_id = sh.id""",
        "shift",
    ),
)

ONE_OPEN_SHIFT = Invariant(
    "one-open-shift",
    "a register has at most one OPEN shift, its name read in any letter case",
    _violations(
        """
    SELECT (array_agg(id ORDER BY opened_at, id))[2] AS shift,
           format('one of %s OPEN shifts of its register', count(*)) AS problem
    FROM cash_shifts WHERE status = 'OPEN' GROUP BY lower(register) HAVING count(*) > 1""",
        "shift",
    ),
)

SIGN_IN_EMAILS = Invariant(
    "sign-in-emails",
    "an account's email is one a new account could have: NFKC, trimmed, lower case, an address "
    "(a name, @, a domain of two or more labels, none empty, no quote, bracket or =?) with nothing "
    "invisible in it",
    _violations(
        r"""
    SELECT id AS "user", concat_ws('; ',
        CASE WHEN email IS DISTINCT FROM lower(btrim(normalize(email, NFKC)))
             THEN 'its email is not in NFKC, trimmed, in lower case' END,
        CASE WHEN email !~ :address
             THEN 'its email is no address (an empty part, a trailing dot, a quote, a bracket, =?)' END,
        CASE WHEN email ~ :invisible THEN 'its email holds an invisible character' END) AS problem
    FROM users""",
        '"user"',
    ),
)

LOOKUP_CODES = Invariant(
    "lookup-codes",
    "an active product's SKU or coupon's code is one a new code could be, so a lookup finds it: "
    "NFKC, trimmed, upper case, with no space and nothing invisible in it",
    _violations(
        r"""
    SELECT product, coupon, concat_ws('; ',
        CASE WHEN code IS DISTINCT FROM upper(btrim(normalize(code, NFKC)))
             THEN 'its code is not in NFKC, trimmed, in upper case' END,
        CASE WHEN code ~ '\s' OR code ~ :invisible
             THEN 'its code holds a space or an invisible character' END) AS problem
    FROM (SELECT id AS product, NULL::uuid AS coupon, sku AS code FROM products WHERE active
          UNION ALL SELECT NULL, id, code FROM coupons WHERE active) codes""",
        "product, coupon",
    ),
)


@functools.cache
def parameters() -> dict[str, str]:
    """The values the checks' queries take: `invisible`, a regular expression of every character
    the input rule (fields.invisible) refuses, so the check and the rule agree. Made on the first
    check, not at import (a third of a second); planes 3 to 13 hold no such character."""
    ranges: list[list[int]] = []
    points = itertools.chain(range(1, 0xD800), range(0xE000, 0x30000), range(0xE0000, 0xE1000))
    for point in (p for p in points if fields.invisible(chr(p))):
        if ranges and ranges[-1][1] == point - 1:
            ranges[-1][1] = point
        else:
            ranges.append([point, point])
    escape = "\\U{:08x}".format
    return {
        "invisible": "[" + "".join(escape(a) + "-" + escape(b) for a, b in ranges) + "]",
        "address": rules.EMAIL_RE.pattern,  # PostgreSQL's regular expressions read it alike
    }


INVARIANTS: tuple[Invariant, ...] = (
    STOCK,
    SALE_STOCK,
    POINTS,
    SALE_LEDGER,
    COUPON_USES,
    ONE_PENDING_REQUEST,
    PET_STATUS,
    ADOPTION_DECISIONS,
    CHECKED_OUT_ORDERS,
    POS_SALES,
    MERGED_ORDERS,
    SALE_TOTALS,
    SALE_POINTS,
    SALE_REFUNDS,
    REFUNDED_LINES,
    REFUNDS,
    LINE_ITEMS,
    IDEMPOTENCY_KEYS,
    SALE_TENDERS,
    CASH_REFUNDS,
    SHIFT_CASH,
    ONE_OPEN_SHIFT,
    SIGN_IN_EMAILS,
    LOOKUP_CODES,
)


@dataclass(frozen=True)
class Outcome:
    invariant: Invariant
    violations: list[dict]
    seconds: float


@asynccontextmanager
async def snapshot(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One REPEATABLE READ READ ONLY transaction: one snapshot for every check, and no writes."""
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        async with connection.begin():
            # Room to group and join the large tables by hash in memory: each check is one pass
            # instead of sorts spilled to disk. For this transaction only.
            await connection.execute(text("SET LOCAL work_mem = '64MB'"))
            yield connection


async def run_checks(engine: AsyncEngine, invariants: tuple[Invariant, ...] = INVARIANTS) -> list[Outcome]:
    outcomes = []
    values = parameters()  # before the clock starts: made once per process
    async with snapshot(engine) as connection:
        for invariant in invariants:
            started = time.perf_counter()
            rows = (await connection.execute(text(invariant.sql), values)).mappings().all()
            outcomes.append(Outcome(invariant, [dict(row) for row in rows], time.perf_counter() - started))
    return outcomes


def violation_line(row: dict) -> str:
    ids = " ".join(f"{key}={value}" for key, value in row.items() if key != "problem" and value is not None)
    return f"{ids}: {row['problem']}"


def report(
    outcomes: list[Outcome], out: TextIO = sys.stdout, *, limit: int = 0, timings: bool = False
) -> int:
    """Print the violations grouped by invariant and a summary; the exit code (1 on any violation)."""
    broken = [o for o in outcomes if o.violations]
    for outcome in outcomes:
        if timings:
            print(
                f"{outcome.seconds * 1000:9.1f} ms  {outcome.invariant.name}: "
                f"{len(outcome.violations)} violations",
                file=out,
            )
    for outcome in broken:
        count = len(outcome.violations)
        print(
            f"VIOLATED {outcome.invariant.name} ({count} {'violation' if count == 1 else 'violations'}): "
            f"{outcome.invariant.promise}",
            file=out,
        )
        shown = outcome.violations[:limit] if limit else outcome.violations
        for row in shown:
            print("  " + violation_line(row), file=out)
        if len(shown) < count:
            print(f"  … and {count - len(shown)} more", file=out)
    total = sum(o.seconds for o in outcomes)
    if not broken:
        print(f"petpos check: all {len(outcomes)} invariants hold ({total:.2f} s)", file=out)
        return 0
    violations = sum(len(o.violations) for o in broken)
    print(
        f"petpos check: {len(broken)} of {len(outcomes)} invariants violated, {violations} "
        f"{'violation' if violations == 1 else 'violations'} ({total:.2f} s)",
        file=out,
    )
    return 1


async def check_database(settings, url: str, *, limit: int = 0, timings: bool = False) -> int:
    """The `petpos check` command: 0 all hold, 1 violations, 2 not migrated. A database that
    cannot be read raises (the command says what stopped it)."""
    from app.db.engine import Database
    from app.migrations import NOT_MIGRATED, database_is_at_head

    db = Database(settings, url, timeouts=False)  # its statements read whole tables
    try:
        if not await database_is_at_head(db.engine):
            print(NOT_MIGRATED, file=sys.stderr)
            return 2
        outcomes = await run_checks(db.engine)
    finally:
        await db.dispose()
    return report(outcomes, limit=limit, timings=timings)
