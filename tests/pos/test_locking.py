"""Recorded SQL: every order mutation locks the order row(s) before it writes, in a small
constant number of statements; queries never lock or write; the migration matches the models."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.domain.pos import items, orders
from tests.pos.conftest import (
    CANCEL,
    CLEAR,
    CREATE,
    MERGE,
    ORDER_FIELDS,
    REMOVE,
    SPLIT,
    UPDATE,
    assert_order_locked_before_any_write,
)
from tests.pos.test_races import line
from tests.races import unit_held
from tests.sql_recorder import record_sql

LOCK_NOT_AVAILABLE = "55P03"  # the lock_timeout ran out: the row lock is held, not some other error

ADD_LEAN = (
    "mutation($i: AddSaleOrderItemInput!) { addSaleOrderItem(input: $i) "
    "{ order { id version } errors { code } } }"
)
ADD_FULL = (
    f"mutation($i: AddSaleOrderItemInput!) {{ addSaleOrderItem(input: $i) "
    f"{{ order {{ {ORDER_FIELDS} }} errors {{ code }} }} }}"
)


async def _order_with_lines(pos, n: int = 2):
    order = await pos.order()
    burger = await pos.product()
    added = None
    for _ in range(n):
        added = await pos.add(order["id"], burger, 2, mode="CUSTOM", discount="1.00")
    return order, burger, added["order"]["items"]


def add_input(order: dict, product) -> dict:
    return {"i": {"orderId": order["id"], "itemType": "PRODUCT", "itemId": str(product.id), "quantity": 1}}


async def test_add_locks_the_order_then_reads_the_item_upserts_bumps_and_notifies_in_one_statement(db, pos):
    order, burger, _ = await _order_with_lines(pos)
    with record_sql(db.engine) as sql:
        result = await pos.gql(ADD_LEAN, add_input(order, burger), token=pos.token)
    assert result["data"]["addSaleOrderItem"]["errors"] == []
    assert_order_locked_before_any_write(sql)
    # The caller's user row (the test app runs no LISTEN, so no user is kept between requests), then
    # the unit: the order lock, and one statement that reads the item, writes and NOTIFYs.
    # lock_timeout is the connection's own (set at connect): no set_config round trip.
    assert not any("set_config" in s for s in sql)
    assert [
        "FROM users" in sql[0],
        "FOR NO KEY UPDATE" in sql[1],
        sql[2].lstrip().startswith("WITH priced AS") and "FROM products" in sql[2] and "pg_notify" in sql[2],
    ] == [True] * 3
    assert sql.count() == 3


async def test_statements_of_one_add_are_a_small_constant_whatever_the_order_holds(db, pos):
    counts = []
    for lines in (1, 30):
        order, burger, _ = await _order_with_lines(pos, lines)
        with record_sql(db.engine) as sql:
            result = await pos.gql(ADD_FULL, add_input(order, burger), token=pos.token)
        assert result["data"]["addSaleOrderItem"]["errors"] == []
        counts.append(sql.count())
    # user; lock, item+upsert+bump+notify (which returns the lines as the add left them, with
    # their tax rates, for items, subtotal, tax and total); the customer is null so never read.
    assert counts == [3, 3]


@pytest.mark.parametrize("operation", ["update", "remove", "clear", "cancel", "split"])
async def test_every_change_of_one_order_locks_it_before_any_write(db, pos, operation):
    order, _, lines = await _order_with_lines(pos, 3)
    document, variables = {
        "update": (
            UPDATE,
            {
                "o": order["id"],
                "items": [
                    {"itemId": lines[0]["id"], "quantity": 5},
                    {"itemId": lines[1]["id"], "quantity": 0},
                ],
            },
        ),
        "remove": (REMOVE, {"o": order["id"], "l": lines[0]["id"]}),
        "clear": (CLEAR, {"o": order["id"]}),
        "cancel": (CANCEL, {"o": order["id"]}),
        "split": (
            SPLIT,
            {
                "o": order["id"],
                "items": [
                    {"itemId": lines[0]["id"], "quantity": 1},
                    {"itemId": lines[1]["id"], "quantity": 2},
                ],
            },
        ),
    }[operation]
    with record_sql(db.engine) as sql:
        result = await pos.gql(document, variables, token=pos.token)
    assert next(iter(result["data"].values()))["errors"] == []
    assert_order_locked_before_any_write(sql)
    assert len(sql.locks("sale_orders")) == 1
    assert len(sql.writes()) == 1  # one statement writes the lines and bumps the version


async def test_merge_locks_target_and_sources_in_one_statement_before_any_write(db, pos):
    target, _, _ = await _order_with_lines(pos)
    sources = [(await _order_with_lines(pos))[0] for _ in range(3)]
    with record_sql(db.engine) as sql:
        result = await pos.gql(MERGE, {"t": target["id"], "s": [s["id"] for s in sources]}, token=pos.token)
    assert result["data"]["mergeSaleOrders"]["errors"] == []
    assert_order_locked_before_any_write(sql)
    [lock] = [sql[i] for i in sql.locks("sale_orders")]
    assert "ORDER BY sale_orders.id" in lock
    assert len(sql.writes()) == 1
    # The four orders' NOTIFYs come back with that one write, not a statement each.
    [write] = [sql[i] for i in sql.writes()]
    assert "pg_notify" in write and sum("pg_notify" in s for s in sql) == 1


async def test_creating_an_order_is_one_insert_and_locks_nothing(db, pos):
    with record_sql(db.engine) as sql:
        result = await pos.gql(CREATE, {"i": {"label": "T1"}}, token=pos.token)
    assert result["data"]["createSaleOrder"]["errors"] == []
    assert sql.row_locks() == [], "\n".join(sql)  # no row lock of any mode (FOR [NO KEY] UPDATE, [KEY] SHARE)
    assert len(sql.writes()) == 1


async def test_order_queries_take_no_locks_and_cost_the_same_for_3_or_20_orders(db, pos, users):
    customer = await users.create()
    counts = []
    # Every line follows itself to the catalogue: one batch of products and one of services per request.
    fields = ORDER_FIELDS.replace(
        "lineTotal { amount }", "lineTotal { amount } product { name } service { name }"
    )
    for n in (3, 17):
        for _ in range(n):
            order = await pos.order(customer_id=str(customer.id))
            await pos.add(order["id"], await pos.product(), 1)
            await pos.add(order["id"], await pos.service(), 1)
        query = (
            f"{{ saleOrders(first: 50) {{ edges {{ node {{ {fields} }} }} pageInfo {{ hasNextPage }} }} }}"
        )
        with record_sql(db.engine) as sql:
            result = await pos.gql(query, token=pos.token)
            single = await pos.gql(f'{{ saleOrder(id: "{order["id"]}") {{ {fields} }} }}', token=pos.token)
        assert "errors" not in result and "errors" not in single
        sql.assert_no_locks_or_writes()
        counts.append(sql.count())
    assert len(result["data"]["saleOrders"]["edges"]) == 20
    assert counts[0] == counts[1]
    items = single["data"]["saleOrder"]["items"]
    assert [(i["itemType"], i["product"], i["service"]) for i in items] == [
        ("PRODUCT", {"name": "Burger chew"}, None),
        ("SERVICE", None, {"name": "Nail trim"}),
    ]


async def test_sale_orders_pages_newest_first_and_filters_by_status(pos):
    made = [await pos.order(f"T{i}") for i in range(5)]
    await pos.call(CANCEL, {"o": made[1]["id"]})
    page = (
        "query($s: SaleOrderStatus, $f: Int, $a: String) { saleOrders(status: $s, first: $f, after: $a) "
        "{ edges { node { label } cursor } pageInfo { hasNextPage endCursor } } }"
    )
    first = (await pos.gql(page, {"f": 2}, token=pos.token))["data"]["saleOrders"]
    rest = (await pos.gql(page, {"f": 10, "a": first["pageInfo"]["endCursor"]}, token=pos.token))["data"][
        "saleOrders"
    ]
    assert [e["node"]["label"] for e in first["edges"] + rest["edges"]] == ["T4", "T3", "T2", "T1", "T0"]
    assert first["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    drafts = (await pos.gql(page, {"s": "DRAFT", "f": 10}, token=pos.token))["data"]["saleOrders"]
    assert [e["node"]["label"] for e in drafts["edges"]] == ["T4", "T3", "T2", "T0"]
    too_big = await pos.gql(page, {"f": 101}, token=pos.token)
    assert too_big["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert (await pos.gql(f'{{ saleOrder(id: "{uuid.uuid4()}") {{ id }} }}', token=pos.token))["data"] == {
        "saleOrder": None
    }


@pytest.mark.parametrize("lock", ["add", "edit"])
async def test_an_order_lock_lets_foreign_key_checks_on_the_order_through(db, pos, lock):
    """Order locks are FOR NO KEY UPDATE: no change deletes an order or changes its id, so a
    foreign-key check on it (FOR KEY SHARE, as an insert referencing the order takes) never waits
    for a tablet's add, while a second editor still does."""
    order = await pos.order()
    burger = await pos.product()
    order_id = uuid.UUID(order["id"])
    work = (
        (lambda uow: items.add_item(uow, line(order["id"], burger, 1)))
        if lock == "add"
        else (lambda uow: orders.lock_order(uow, order_id))
    )
    async with unit_held(db, work), db.engine.connect() as other:
        await other.execute(text("SET lock_timeout = '2s'"))
        key_share = "SELECT 1 FROM sale_orders WHERE id = :id FOR KEY SHARE"
        assert (await other.execute(text(key_share), {"id": order_id})).scalar_one() == 1
        await other.rollback()
        await other.execute(text("SET lock_timeout = '50ms'"))
        with pytest.raises(DBAPIError) as raised:
            await other.execute(
                text("SELECT 1 FROM sale_orders WHERE id = :id FOR NO KEY UPDATE"), {"id": order_id}
            )
        assert getattr(raised.value.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE, raised.value
        await other.rollback()
