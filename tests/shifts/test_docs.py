"""The drawer operations of docs/pos.md, run as written against the demo data: its open `front`
shift takes a split payment and a cash refund, pays out, closes with a count, and opens again."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from app.domain.catalog.models import Product
from app.domain.uow import run_unit
from app.seed import FEATURE_SEEDS
from tests.api.test_docs import BLOCKS
from tests.shifts.drawer import CURRENT, order_of

DOC = {block.split("(")[0].split("{")[0].split()[1]: block for doc, block in BLOCKS if doc == "docs/pos.md"}


async def test_the_drawer_operations_of_the_pos_doc_run_against_the_demo_data(db, pos):
    for seed in FEATURE_SEEDS:  # after the staff account the `pos` tablet signed in with
        await run_unit(db.sessions, seed, lock_timeout_ms=3000)
    front = (await pos.gql(CURRENT, {"r": "front"}, token=pos.token))["data"]["currentShift"]
    assert (front["openingFloat"]["amount"], front["status"]) == ("150.00", "OPEN")
    async with db.read() as session:
        kibble = (await session.scalars(select(Product).where(Product.sku == "DOG-KIBBLE-5KG"))).one()

    order_id = await order_of(pos, kibble, kibble)  # 2 x 34.90
    paid = await pos.ok(DOC["PaySplit"], {"orderId": order_id, "key": uuid.uuid4().hex})
    assert (paid["sale"]["total"]["amount"], paid["sale"]["change"]["amount"]) == ("69.80", "0.20")
    refund = await pos.ok(DOC["RefundCash"], {"saleId": paid["sale"]["id"], "key": uuid.uuid4().hex})
    assert (refund["refund"]["amount"]["amount"], refund["refund"]["method"]) == ("69.80", "CASH")
    await pos.ok(DOC["PayOut"], {"shiftId": front["id"]})
    closed = (await pos.ok(DOC["CloseDrawer"], {"shiftId": front["id"]}))["shift"]
    # 150.00 + 49.80 cash sales - 69.80 refunded - 12.50 paid out
    assert (closed["expectedCash"]["amount"], closed["overShort"]["amount"]) == ("117.50", "194.90")
    assert closed["tenderTotals"] == [
        {"method": "CASH", "amount": {"amount": "49.80"}},
        {"method": "CARD", "amount": {"amount": "20.00"}},
    ]
    opened = await pos.ok(DOC["OpenDrawer"], {})
    assert opened["shift"]["status"] == "OPEN"
