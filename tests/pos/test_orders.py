"""Orders: numbering, label and customer, adding products and services, totals, cancel,
and what a non-DRAFT order refuses."""

from __future__ import annotations

import uuid

from sqlalchemy import event, text

from tests.pos.conftest import ADD, CANCEL, CLEAR, CREATE, REMOVE, UPDATE


async def test_orders_are_numbered_in_sequence_and_start_as_empty_drafts_at_version_1(pos):
    first, second = await pos.order("Table 1"), await pos.order(None)
    assert (first["number"], second["number"]) == ("O-000001", "O-000002")
    assert first["label"] == "Table 1" and second["label"] is None
    assert (first["status"], first["version"], first["items"]) == ("DRAFT", 1, [])
    assert first["subtotal"] == {"amount": "0.00"} and first["total"] == {"amount": "0.00"}


async def test_a_new_order_was_last_changed_when_it_was_created(pos):
    """createSaleOrder and the order a split makes: updatedAt is createdAt, one moment (it came
    out a few microseconds before it); a change after moves updatedAt on."""
    create = "mutation { createSaleOrder(input: {}) { order { id createdAt updatedAt } errors { code } } }"
    created = (await pos.ok(create, {}))["order"]
    assert created["updatedAt"] == created["createdAt"]
    line = (await pos.add(created["id"], await pos.product(), 2))["order"]["items"][0]
    split = await pos.ok(
        "mutation($o: ID!, $items: [SplitLineInput!]!) { splitSaleOrder(orderId: $o, items: $items) "
        "{ source { createdAt updatedAt } created { createdAt updatedAt } errors { code } } }",
        {"o": created["id"], "items": [{"itemId": line["id"], "quantity": 1}]},
    )
    assert split["created"]["updatedAt"] == split["created"]["createdAt"]
    assert split["source"]["updatedAt"] > split["source"]["createdAt"] == created["createdAt"]


async def test_an_order_may_name_an_existing_customer_only(pos, users):
    customer = await users.create()
    order = await pos.order(customer_id=str(customer.id))
    assert order["customer"] == {"id": str(customer.id)}
    for unknown in (str(uuid.uuid4()), "not-an-id"):
        payload = await pos.call(CREATE, {"i": {"customerId": unknown}})
        assert payload == {
            "order": None,
            "errors": [{"code": "NOT_FOUND", "field": "customerId", "message": "Customer not found"}],
        }


async def test_a_label_longer_than_100_characters_is_refused(pos):
    payload = await pos.call(CREATE, {"i": {"label": "x" * 101}})
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("VALIDATION", "label")]


async def test_products_and_services_are_sold_at_their_catalogue_price_and_add_up(pos):
    order = await pos.order()
    toy, trim = await pos.product("Squeaky bone", "4.25"), await pos.service("Nail trim", "12.50")
    await pos.add(order["id"], toy, 2)
    result = (await pos.add(order["id"], trim, 1))["order"]
    assert [
        (i["itemType"], i["name"], i["unitPrice"]["amount"], i["quantity"], i["lineTotal"]["amount"])
        for i in result["items"]
    ] == [("PRODUCT", "Squeaky bone", "4.25", 2, "8.50"), ("SERVICE", "Nail trim", "12.50", 1, "12.50")]
    assert result["subtotal"]["amount"] == "21.00" and result["total"]["amount"] == "21.00"
    assert result["version"] == 3


async def test_a_line_keeps_the_price_it_was_added_at(pos, db):
    from app.domain.catalog import service as catalog
    from app.domain.uow import run_unit

    order = await pos.order()
    toy = await pos.product(price="4.00")
    await pos.add(order["id"], toy, 1)
    changes = catalog.prepare_product_changes(
        name=None, description=None, category=None, price="9.00", active=None
    )
    await run_unit(
        db.sessions,
        lambda uow: catalog.update_product(uow, product_id=toy.id, changes=changes),
        lock_timeout_ms=3000,
    )
    result = (await pos.add(order["id"], toy, 1))["order"]
    assert [(i["unitPrice"]["amount"], i["quantity"]) for i in result["items"]] == [("4.00", 2)]


async def test_inactive_or_unknown_items_cannot_be_sold(pos, db):
    from app.domain.catalog import service as catalog
    from app.domain.uow import run_unit

    order = await pos.order()
    toy = await pos.product()
    changes = catalog.prepare_product_changes(
        name=None, description=None, category=None, price=None, active=False
    )
    await run_unit(
        db.sessions,
        lambda uow: catalog.update_product(uow, product_id=toy.id, changes=changes),
        lock_timeout_ms=3000,
    )
    inactive = await pos.add(order["id"], toy, 1)
    assert [(e["code"], e["field"]) for e in inactive["errors"]] == [("NOT_FOUND", "itemId")]
    trim = await pos.service()
    # A service id sent as a product is not a product.
    wrong_type = await pos.call(
        ADD, {"i": {"orderId": order["id"], "itemType": "PRODUCT", "itemId": str(trim.id), "quantity": 1}}
    )
    assert [(e["code"], e["field"]) for e in wrong_type["errors"]] == [("NOT_FOUND", "itemId")]
    assert (await pos.row(order["id"])).version == 1


async def test_an_item_retired_when_its_add_ran_is_not_found_even_if_it_is_back_before_the_answer(pos, db):
    """The add statement refuses a retired item and writes nothing; the unit then reads why. If the
    item is brought back in between (here within the unit, as another's commit would show to its
    next statement), the answer is still NOT_FOUND on itemId, not an order total too large."""
    order = await pos.order()
    toy = await pos.product()
    async with db.engine.begin() as connection:
        await connection.execute(text("UPDATE products SET active = false WHERE id = :id"), {"id": toy.id})
    brought_back = []

    def bring_back(connection, cursor, statement, parameters, context, executemany):
        if "INSERT INTO sale_order_items" in statement and not brought_back:
            brought_back.append(statement)
            connection.connection.cursor().execute(f"UPDATE products SET active = true WHERE id = '{toy.id}'")

    event.listen(db.engine.sync_engine, "after_cursor_execute", bring_back)
    try:
        refused = await pos.add(order["id"], toy, 1)
    finally:
        event.remove(db.engine.sync_engine, "after_cursor_execute", bring_back)
    assert brought_back
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("NOT_FOUND", "itemId")]
    assert (await pos.row(order["id"])).version == 1


async def test_quantity_and_custom_only_fields_are_validated_with_their_paths(pos):
    order = await pos.order()
    toy = await pos.product(price="5.00")
    cases = [
        (dict(quantity=0), [("VALIDATION", "quantity")]),
        (dict(quantity=1000), [("VALIDATION", "quantity")]),
        (dict(quantity=1, unitPrice="3.00"), [("VALIDATION", "unitPrice")]),
        (
            dict(quantity=1, discount="1.00", note="no onions"),
            [("VALIDATION", "discount"), ("VALIDATION", "note")],
        ),
        (dict(quantity=1, mode="CUSTOM", unitPrice="0"), [("VALIDATION", "unitPrice")]),
        (dict(quantity=1, mode="CUSTOM", unitPrice="1.005"), [("VALIDATION", "unitPrice")]),
        (dict(quantity=2, mode="CUSTOM", discount="10.01"), [("VALIDATION", "discount")]),
        (dict(quantity=1, mode="CUSTOM", discount="-1"), [("VALIDATION", "discount")]),
        (dict(quantity=1, mode="CUSTOM", note="n" * 501), [("VALIDATION", "note")]),
    ]
    for extra, expected in cases:
        quantity = extra.pop("quantity")
        payload = await pos.add(order["id"], toy, quantity, **extra)
        assert [(e["code"], e["field"]) for e in payload["errors"]] == expected, extra
    unknown = await pos.add(str(uuid.uuid4()), toy, 1)
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "orderId")]
    assert await pos.lines(order["id"]) == [] and (await pos.row(order["id"])).version == 1


async def test_a_merged_standard_line_cannot_pass_999_and_the_failed_add_changes_nothing(pos):
    order = await pos.order()
    toy = await pos.product()
    await pos.add(order["id"], toy, 998)
    over = await pos.add(order["id"], toy, 2)
    assert [(e["code"], e["field"]) for e in over["errors"]] == [("VALIDATION", "quantity")]
    assert [line.quantity for line in await pos.lines(order["id"])] == [998]
    assert (await pos.row(order["id"])).version == 2


async def test_remove_and_clear_lines(pos):
    order = await pos.order()
    toy, trim = await pos.product(), await pos.service()
    await pos.add(order["id"], toy, 2)
    added = (await pos.add(order["id"], trim, 1))["order"]
    removed = await pos.ok(REMOVE, {"o": order["id"], "l": added["items"][0]["id"]})
    assert [i["name"] for i in removed["order"]["items"]] == ["Nail trim"] and removed["order"][
        "version"
    ] == 4
    again = await pos.call(REMOVE, {"o": order["id"], "l": added["items"][0]["id"]})
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("NOT_FOUND", "itemId")]
    cleared = await pos.ok(CLEAR, {"o": order["id"]})
    assert cleared["order"]["items"] == [] and cleared["order"]["version"] == 5
    assert (await pos.row(order["id"])).version == 5


async def test_a_cancelled_order_refuses_every_change(pos):
    order = await pos.order()
    toy = await pos.product()
    line = (await pos.add(order["id"], toy, 1))["order"]["items"][0]
    cancelled = await pos.ok(CANCEL, {"o": order["id"]})
    assert cancelled["order"]["status"] == "CANCELLED" and cancelled["order"]["version"] == 3
    refusals = [
        await pos.add(order["id"], toy, 1),
        await pos.call(UPDATE, {"o": order["id"], "items": [{"itemId": line["id"], "quantity": 3}]}),
        await pos.call(REMOVE, {"o": order["id"], "l": line["id"]}),
        await pos.call(CLEAR, {"o": order["id"]}),
        await pos.call(CANCEL, {"o": order["id"]}),
    ]
    for payload in refusals:
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("ORDER_NOT_EDITABLE", "orderId")]
    assert (await pos.row(order["id"])).version == 3
    assert [line.quantity for line in await pos.lines(order["id"])] == [1]


async def test_adds_keep_merging_once_postgresql_switches_the_prepared_upsert_to_a_generic_plan(
    settings, pos
):
    """After five executions of a prepared statement PostgreSQL may plan it generically;
    the upsert's conflict target must still match the partial index then."""
    from app.db.engine import Database
    from app.domain.pos import items
    from app.domain.uow import run_unit
    from tests.conftest import make_settings

    order = await pos.order()
    burger = await pos.product()
    one_connection = Database(make_settings(settings.database_url, pool_size=1))
    try:
        for i in range(12):
            line = items.NewLine(
                order_id=uuid.UUID(order["id"]),
                item_type="PRODUCT",
                item_id=burger.id,
                mode="CUSTOM" if i % 4 == 3 else "STANDARD",
                name=burger.name,
                unit_price=burger.price,
                quantity=1,
                discount=burger.price * 0,
                note=None,
            )
            await run_unit(
                one_connection.sessions, lambda uow: items.add_item(uow, line), lock_timeout_ms=3000
            )
    finally:
        await one_connection.dispose()
    assert sorted((l.mode, l.quantity) for l in await pos.lines(order["id"])) == [
        ("CUSTOM", 1),
        ("CUSTOM", 1),
        ("CUSTOM", 1),
        ("STANDARD", 9),
    ]
