"""A scanned barcode adds its product in one round trip: addSaleOrderItem takes the SKU instead of
the item's id, merges into the same line an add by id makes, and refuses what it cannot name."""

from __future__ import annotations

from sqlalchemy import update

from app.domain.catalog.models import Product
from tests.pos.conftest import ADD


def scan(order_id: str, sku: str, quantity: int = 1, **more) -> dict:
    return {"i": {"orderId": order_id, "itemType": "PRODUCT", "sku": sku, "quantity": quantity, **more}}


async def test_a_scan_adds_the_product_and_merges_with_an_add_by_id(pos):
    order = await pos.order()
    toy = await pos.product("Rope toy", "7.99")
    first = await pos.ok(ADD, scan(order["id"], f"  {toy.sku.lower()} "))  # as a scanner or a hand typed it
    [line] = first["order"]["items"]
    assert (line["itemId"], line["name"], line["quantity"]) == (str(toy.id), "Rope toy", 1)
    await pos.add(order["id"], toy, 2)
    again = await pos.ok(ADD, scan(order["id"], toy.sku))
    assert [(i["itemId"], i["quantity"]) for i in again["order"]["items"]] == [(str(toy.id), 4)]
    assert again["order"]["total"]["amount"] == "31.96"


async def test_a_scan_names_what_it_cannot_add_and_changes_nothing(pos, db):
    order = await pos.order()
    toy, retired = await pos.product(), await pos.product("Old toy")
    async with db.engine.begin() as connection:
        await connection.execute(update(Product).where(Product.id == retired.id).values(active=False))
    cases = [
        (scan(order["id"], "NO-SUCH-SKU"), "NOT_FOUND", "sku"),
        (scan(order["id"], retired.sku), "NOT_FOUND", "sku"),
        (scan(order["id"], toy.sku, itemId=str(toy.id)), "VALIDATION", "sku"),
        (scan(order["id"], toy.sku, itemType="SERVICE"), "VALIDATION", "sku"),  # a service has no SKU
        ({"i": {"orderId": order["id"], "itemType": "SERVICE", "quantity": 1}}, "VALIDATION", "itemId"),
    ]
    for variables, code, field in cases:
        refused = await pos.call(ADD, variables)
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [(code, field)], variables
    assert (await pos.row(order["id"])).version == 1
