"""Bulk updates (all or nothing), merging and splitting orders."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from app.domain.pos.models import SaleOrder
from app.domain.pos.split import discount_share
from tests.pos.conftest import MERGE, SPLIT, UPDATE
from tests.races import row_lock_held, wait_for_lock_waiters

UPDATE_SEEN = (
    "mutation($o: ID!, $items: [SaleOrderItemUpdate!]!, $v: Int) { updateSaleOrderItems(orderId: $o, "
    "items: $items, expectedVersion: $v) { order { version items { quantity } } "
    "errors { code field message } } }"
)


def codes(payload: dict) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def _order_with_lines(pos):
    order = await pos.order()
    burger, trim = await pos.product("Burger chew", "5.00"), await pos.service("Nail trim", "12.50")
    await pos.add(order["id"], burger, 3)
    await pos.add(order["id"], trim, 2, mode="CUSTOM", discount="5.00", note="small dog")
    result = (await pos.add(order["id"], burger, 1, mode="CUSTOM", unitPrice="3.00"))["order"]
    standard, custom, cheap = result["items"]
    return order, standard, custom, cheap


async def test_bulk_update_applies_every_line_at_once_and_quantity_0_removes(pos):
    order, standard, custom, cheap = await _order_with_lines(pos)
    result = await pos.ok(
        UPDATE,
        {
            "o": order["id"],
            "items": [
                {"itemId": standard["id"], "quantity": 5},
                {"itemId": custom["id"], "quantity": 3, "discount": "7.50", "note": "  big dog "},
                {"itemId": cheap["id"], "quantity": 0},
            ],
        },
    )
    assert [
        (i["name"], i["quantity"], i["discount"]["amount"], i["note"]) for i in result["order"]["items"]
    ] == [("Burger chew", 5, "0.00", None), ("Nail trim", 3, "7.50", "big dog")]
    assert result["order"]["version"] == 5
    assert result["order"]["subtotal"]["amount"] == "62.50" and result["order"]["total"]["amount"] == "55.00"
    cleared_note = await pos.ok(UPDATE, {"o": order["id"], "items": [{"itemId": custom["id"], "note": ""}]})
    assert cleared_note["order"]["items"][1]["note"] is None


async def test_bulk_update_with_one_bad_line_changes_nothing(pos):
    order, standard, custom, cheap = await _order_with_lines(pos)
    before = [(l.id, l.quantity, l.discount, l.note) for l in await pos.lines(order["id"])]
    bad_batches = [
        (
            [{"itemId": standard["id"], "quantity": 9}, {"itemId": str(uuid.uuid4()), "quantity": 1}],
            [("NOT_FOUND", "items.1.itemId")],
        ),
        (
            [{"itemId": standard["id"], "quantity": 9}, {"itemId": custom["id"], "discount": "25.01"}],
            [("VALIDATION", "items.1.discount")],
        ),
        (
            [
                {"itemId": cheap["id"], "quantity": 0},
                {"itemId": custom["id"], "quantity": 1, "discount": "12.51"},
            ],
            [("VALIDATION", "items.1.discount")],
        ),
        (
            [{"itemId": cheap["id"], "quantity": 0}, {"itemId": custom["id"], "discount": "-1"}],
            [("VALIDATION", "items.1.discount")],
        ),
        ([{"itemId": standard["id"], "quantity": 1000}], [("VALIDATION", "items.0.quantity")]),
        (
            [{"itemId": standard["id"], "quantity": 2}, {"itemId": standard["id"], "quantity": 3}],
            [("VALIDATION", "items.1.itemId")],
        ),
        ([{"itemId": standard["id"], "discount": "1.00"}], [("VALIDATION", "items.0.discount")]),
        (
            [{"itemId": cheap["id"], "quantity": 0}, {"itemId": "nope", "quantity": -1}],
            [("NOT_FOUND", "items.1.itemId"), ("VALIDATION", "items.1.quantity")],
        ),
        ([], [("VALIDATION", "items")]),
        # Nothing to change on a line would make a new version (and a live update) for nothing.
        ([{"itemId": cheap["id"], "quantity": 0}, {"itemId": custom["id"]}], [("VALIDATION", "items.1")]),
    ]
    for batch, expected in bad_batches:
        payload = await pos.call(UPDATE, {"o": order["id"], "items": batch})
        assert payload["order"] is None and codes(payload) == expected, batch
        assert [(l.id, l.quantity, l.discount, l.note) for l in await pos.lines(order["id"])] == before
    assert (await pos.row(order["id"])).version == 4


async def test_a_quantity_set_from_a_stale_view_writes_over_nothing_with_its_version(pos, db):
    order = await pos.order()
    shown = (await pos.add(order["id"], await pos.product("Burger chew", "5.00"), 1))["order"]
    line, seen = shown["items"][0]["id"], shown["version"]  # both tablets show 1 burger chew
    five = {"o": order["id"], "items": [{"itemId": line, "quantity": 5}], "v": seen}  # tablet B
    two = {"o": order["id"], "items": [{"itemId": line, "quantity": 2}], "v": seen}  # tablet A
    async with row_lock_held(db, SaleOrder, uuid.UUID(order["id"])):
        first = asyncio.create_task(pos.call(UPDATE_SEEN, five))
        await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[first])
        second = asyncio.create_task(pos.call(UPDATE_SEEN, two))
        await wait_for_lock_waiters(db, 2, table="sale_orders", racers=[first, second])
    made, stale = await first, await second
    assert (made["errors"], made["order"]["items"]) == ([], [{"quantity": 5}])
    assert stale["order"] is None
    assert [(e["code"], e["field"]) for e in stale["errors"]] == [("ORDER_CHANGED", "expectedVersion")]
    assert [l.quantity for l in await pos.lines(order["id"])] == [5]
    # Without a version the last one sets it, as before; a version below 1 is refused with the rest.
    assert (await pos.call(UPDATE_SEEN, {**two, "v": None}))["order"]["items"] == [{"quantity": 2}]
    bad = await pos.call(UPDATE_SEEN, {**two, "o": "nope", "v": 0})
    assert sorted(codes(bad)) == [("NOT_FOUND", "orderId"), ("VALIDATION", "expectedVersion")]


async def test_reducing_a_custom_line_below_its_discount_is_refused_under_the_lock(pos):
    order = await pos.order()
    trim = await pos.service("Nail trim", "12.50")
    line = (await pos.add(order["id"], trim, 2, mode="CUSTOM", discount="20.00"))["order"]["items"][0]
    payload = await pos.call(UPDATE, {"o": order["id"], "items": [{"itemId": line["id"], "quantity": 1}]})
    # Only the quantity was sent, so the quantity is the field to fix.
    assert codes(payload) == [("VALIDATION", "items.0.quantity")]
    assert (
        payload["errors"][0]["message"]
        == "The line's discount of 20.00 exceeds its price times this quantity"
    )
    assert [(l.quantity, l.discount) for l in await pos.lines(order["id"])] == [(2, Decimal("20.00"))]
    assert (await pos.row(order["id"])).version == 2


async def test_merging_standard_lines_merge_custom_lines_move_and_sources_become_merged(pos):
    target, s1, s2 = await pos.order("T"), await pos.order("S1"), await pos.order("S2")
    burger, bowl = await pos.product("Burger chew", "5.00"), await pos.product("Bowl", "8.00")
    await pos.add(target["id"], burger, 1)
    await pos.add(s1["id"], burger, 2)
    await pos.add(s1["id"], bowl, 1, mode="CUSTOM", discount="1.00", note="blue")
    await pos.add(s2["id"], burger, 4)
    await pos.add(s2["id"], bowl, 2)
    result = await pos.ok(MERGE, {"t": target["id"], "s": [s1["id"], s2["id"]]})
    merged = result["order"]
    assert merged["status"] == "DRAFT" and merged["version"] == 3
    assert sorted(
        (i["name"], i["mode"], i["quantity"], i["discount"]["amount"], i["note"] or "")
        for i in merged["items"]
    ) == [
        ("Bowl", "CUSTOM", 1, "1.00", "blue"),
        ("Bowl", "STANDARD", 2, "0.00", ""),
        ("Burger chew", "STANDARD", 7, "0.00", ""),
    ]
    assert merged["subtotal"]["amount"] == "59.00" and merged["total"]["amount"] == "58.00"
    for source, version in ((s1, 4), (s2, 4)):
        row = await pos.row(source["id"])
        assert (row.status, str(row.merged_into_id), row.version) == ("MERGED", target["id"], version)
        assert await pos.lines(source["id"]) == []
    read = await pos.read(s1["id"])
    assert read["mergedInto"] == {"id": target["id"]}


async def test_merge_refuses_bad_requests_and_non_draft_orders(pos):
    a, b, c = await pos.order("A"), await pos.order("B"), await pos.order("C")
    assert codes(await pos.call(MERGE, {"t": a["id"], "s": []})) == [("VALIDATION", "sourceOrderIds")]
    assert codes(await pos.call(MERGE, {"t": a["id"], "s": [a["id"]]})) == [
        ("VALIDATION", "sourceOrderIds.0")
    ]
    assert codes(await pos.call(MERGE, {"t": a["id"], "s": [b["id"], b["id"]]})) == [
        ("VALIDATION", "sourceOrderIds.1")
    ]
    missing = str(uuid.uuid4())
    assert codes(await pos.call(MERGE, {"t": a["id"], "s": [b["id"], missing]})) == [
        ("NOT_FOUND", "sourceOrderIds.1")
    ]
    await pos.ok(MERGE, {"t": a["id"], "s": [c["id"]]})
    assert codes(await pos.call(MERGE, {"t": c["id"], "s": [b["id"]]})) == [
        ("ORDER_NOT_EDITABLE", "targetOrderId")
    ]
    assert codes(await pos.call(MERGE, {"t": b["id"], "s": [c["id"]]})) == [
        ("ORDER_NOT_EDITABLE", "sourceOrderIds.0")
    ]
    assert (await pos.row(b["id"])).version == 1


async def test_a_merge_that_would_pass_999_on_a_line_changes_nothing(pos):
    a, b = await pos.order("A"), await pos.order("B")
    burger = await pos.product()
    await pos.add(a["id"], burger, 600)
    await pos.add(b["id"], burger, 600)
    assert codes(await pos.call(MERGE, {"t": a["id"], "s": [b["id"]]})) == [("VALIDATION", "sourceOrderIds")]
    assert (await pos.row(b["id"])).status == "DRAFT"
    assert (
        [l.quantity for l in await pos.lines(a["id"])]
        == [600]
        == [l.quantity for l in await pos.lines(b["id"])]
    )


async def test_split_moves_whole_and_partial_lines_and_conserves_quantities_and_discounts(pos, users):
    customer = await users.create()
    order = await pos.order("Table 9", customer_id=str(customer.id))
    burger, trim = await pos.product("Burger chew", "5.00"), await pos.service("Nail trim", "12.50")
    await pos.add(order["id"], burger, 4)
    await pos.add(order["id"], trim, 3, mode="CUSTOM", discount="10.00", note="small dog")
    whole = (await pos.add(order["id"], burger, 1, mode="CUSTOM", unitPrice="2.00", discount="0.50"))["order"]
    standard, custom, cheap = whole["items"]
    before = await pos.read(order["id"])
    result = await pos.ok(
        SPLIT,
        {
            "o": order["id"],
            "items": [
                {"itemId": standard["id"], "quantity": 1},
                {"itemId": custom["id"], "quantity": 2},
                {"itemId": cheap["id"], "quantity": 1},
            ],
        },
    )
    source, created = result["source"], result["created"]
    assert created["status"] == "DRAFT" and created["number"] == "O-000002" and created["label"] == "Table 9"
    assert created["customer"] == {"id": str(customer.id)} and created["version"] == 1
    assert source["version"] == before["version"] + 1
    assert [(i["name"], i["quantity"], i["discount"]["amount"]) for i in source["items"]] == [
        ("Burger chew", 3, "0.00"),
        ("Nail trim", 1, "3.33"),
    ]
    assert sorted(
        (i["name"], i["mode"], i["quantity"], i["discount"]["amount"], i["note"] or "")
        for i in created["items"]
    ) == [
        ("Burger chew", "CUSTOM", 1, "0.50", ""),
        ("Burger chew", "STANDARD", 1, "0.00", ""),
        ("Nail trim", "CUSTOM", 2, "6.67", "small dog"),
    ]
    # Quantities, discounts and money are conserved across the two orders.
    for field in ("subtotal", "total"):
        assert Decimal(source[field]["amount"]) + Decimal(created[field]["amount"]) == Decimal(
            before[field]["amount"]
        )


async def test_discount_shares_round_half_up_and_the_parts_add_up():
    assert discount_share(Decimal("10.00"), 2, 3) == Decimal("6.67")
    assert discount_share(Decimal("0.05"), 1, 2) == Decimal("0.03")  # 0.025 rounds half-up
    for total in (Decimal("0.01"), Decimal("9.99"), Decimal("100.00")):
        for of in range(1, 8):
            for moved in range(1, of):
                part = discount_share(total, moved, of)
                assert Decimal(0) <= part <= total and (total - part) + part == total


async def test_split_refuses_bad_lines_and_changes_nothing(pos):
    order = await pos.order()
    burger = await pos.product()
    line = (await pos.add(order["id"], burger, 2))["order"]["items"][0]
    other = await pos.order()
    foreign = (await pos.add(other["id"], burger, 1))["order"]["items"][0]
    cases = [
        ([], [("VALIDATION", "items")]),
        ([{"itemId": line["id"], "quantity": 3}], [("VALIDATION", "items.0.quantity")]),
        ([{"itemId": line["id"], "quantity": 0}], [("VALIDATION", "items.0.quantity")]),
        ([{"itemId": foreign["id"], "quantity": 1}], [("NOT_FOUND", "items.0.itemId")]),
        (
            [{"itemId": line["id"], "quantity": 1}, {"itemId": line["id"], "quantity": 1}],
            [("VALIDATION", "items.1.itemId")],
        ),
    ]
    for batch, expected in cases:
        payload = await pos.call(SPLIT, {"o": order["id"], "items": batch})
        assert payload["source"] is None and codes(payload) == expected, batch
    assert [l.quantity for l in await pos.lines(order["id"])] == [2] and (
        await pos.row(order["id"])
    ).version == 2
    assert (
        len(
            (await pos.gql("{ saleOrders { edges { node { id } } } }", token=pos.token))["data"][
                "saleOrders"
            ]["edges"]
        )
        == 2
    )


async def test_a_split_bill_lists_its_lines_in_the_order_they_were_rung_up(pos):
    """Partly moved lines are copied in one statement; they keep their source line's place rather than
    the random order of their new ids (six lines: the old order came out right 1 time in 720)."""
    order = await pos.order()
    names = [f"Chew {i}" for i in range(6)]
    for name in names:
        await pos.add(order["id"], await pos.product(name), 2)
    lines = (await pos.read(order["id"]))["items"]
    result = await pos.ok(
        SPLIT, {"o": order["id"], "items": [{"itemId": l["id"], "quantity": 1} for l in lines]}
    )
    assert [i["name"] for i in result["created"]["items"]] == names
    assert [i["name"] for i in (await pos.read(result["created"]["id"]))["items"]] == names
