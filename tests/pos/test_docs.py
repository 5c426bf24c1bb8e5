"""docs/pos.md shows the POS flow and the counter day (tests/api/test_docs.py runs each GraphQL block), the
subscription inside its WebSocket example validates too, and the printed receipt is the documented one."""

from __future__ import annotations

import json
import re
from pathlib import Path

from graphql import parse, validate

from tests.api.test_docs import SCHEMA, STEPS
from tests.documented import differences

DOC = Path(__file__).resolve().parents[2] / "docs" / "pos.md"


def test_the_pos_doc_shows_open_add_change_split_merge_pay_and_browse():
    assert {
        "OpenOrder",
        "AddKibble",
        "AddCustom",
        "ChangeLines",
        "RemoveLine",
        "Clear",
        "Cancel",
        "Split",
        "Merge",
        "PayCash",
        "PayCard",
        "OpenOrders",
        "Order",
    } <= {step.name for step in STEPS["docs/pos.md"]}


def test_the_subscription_in_the_websocket_example_is_valid():
    [block] = [b for b in re.findall(r"```json\n(.*?)```", DOC.read_text(), re.DOTALL) if '"subscribe"' in b]
    subscribe = json.loads(block.split("\n", 1)[1])  # the line after connection_init
    document = subscribe["payload"]["query"]
    assert document.startswith("subscription") and validate(SCHEMA, parse(document)) == []


def test_the_pos_doc_shows_the_counter_day():
    """Issue 14: open a drawer, sell with split tenders, refund in cash, close with a count; a taxed
    item and a staff discount on one order, the customer found, the receipt printed."""
    steps = {step.name: step for step in STEPS["docs/pos.md"]}
    day = [
        "OpenBackDrawer",
        "FindCustomer",
        "OpenGroomingOrder",
        "GiveDiscount",
        "PaySplit",
        "PrintReceipt",
        "RefundToyInCash",
        "PayOut",
        "CloseDrawer",
    ]
    assert set(day) <= set(steps)
    order = [step.name for step in STEPS["docs/pos.md"]]
    assert [order.index(name) for name in day] == sorted(order.index(name) for name in day)
    for name, operation in [
        ("OpenBackDrawer", "openShift("),
        ("FindCustomer", "customers(search:"),
        ("GiveDiscount", "setSaleOrderDiscount("),
        ("PaySplit", "tenders: [{method: CARD"),
        ("PrintReceipt", "receipt(saleId:"),
        ("RefundToyInCash", "method: CASH"),
        ("PayOut", "recordCashMovement("),
        ("CloseDrawer", "closeShift("),
    ]:
        assert operation in steps[name].document, name
    closed = steps["CloseDrawer"].result["data"]["closeShift"]["shift"]
    assert {"expectedCash", "overShort", "countedCash"} <= closed.keys()
    sale = steps["PaySplit"].result["data"]["checkoutSaleOrder"]["sale"]
    assert sale["manualDiscount"]["amount"] != "0.00" and sale["tax"]["amount"] != "0.00"
    assert sale["change"]["amount"] != "0.00"


def test_the_printed_receipt_is_the_documented_answer():
    [printed] = re.findall(r"```text\n(.*?)```", DOC.read_text(), re.DOTALL)
    [step] = [step for step in STEPS["docs/pos.md"] if step.name == "PrintReceipt"]
    assert differences(step.result["data"]["receipt"]["text"], printed) == []
