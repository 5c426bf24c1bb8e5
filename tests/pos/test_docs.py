"""docs/pos.md shows the POS flow (tests/api/test_docs.py runs each GraphQL block), and the subscription
inside its WebSocket example validates too."""

from __future__ import annotations

import json
import re
from pathlib import Path

from graphql import parse, validate

from tests.api.test_docs import SCHEMA, STEPS

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
