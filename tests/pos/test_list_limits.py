"""List inputs are capped before any per-item work, and repeats are found in linear time. (Past
1,000 items the request itself is refused: tests/api/test_list_limit.py.)"""

from __future__ import annotations

import uuid

import pytest

from app.domain import limits
from app.domain.errors import DomainError
from app.domain.pos import items, merge, rules, split
from tests.pos.conftest import MERGE, SPLIT, UPDATE


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def codes(payload: dict) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_merging_a_thousand_orders_is_refused_on_the_list_and_changes_nothing(pos):
    target = await pos.order("T")
    source = await pos.order("S")
    payload = await pos.call(MERGE, {"t": target["id"], "s": [source["id"], *ids(999)]})
    assert (payload["order"], codes(payload)) == (None, [("VALIDATION", "sourceOrderIds")])
    assert str(limits.MAX_MERGED_ORDERS) in payload["errors"][0]["message"]
    assert [(await pos.row(o["id"])).status for o in (target, source)] == ["DRAFT", "DRAFT"]


async def test_merging_exactly_the_cap_is_checked_order_by_order(pos):
    target = await pos.order("T")
    payload = await pos.call(MERGE, {"t": target["id"], "s": ids(limits.MAX_MERGED_ORDERS)})
    assert codes(payload) == [("NOT_FOUND", f"sourceOrderIds.{i}") for i in range(limits.MAX_MERGED_ORDERS)]


@pytest.mark.parametrize(
    "document, line",
    [(UPDATE, {"quantity": 1}), (SPLIT, {"quantity": 1})],
    ids=["updateSaleOrderItems", "splitSaleOrder"],
)
async def test_a_thousand_lines_are_refused_on_the_list(pos, document, line):
    order = await pos.order()
    lines = [{"itemId": i, **line} for i in ids(1_000)]
    payload = await pos.call(document, {"o": order["id"], "items": lines})
    assert codes(payload) == [("VALIDATION", "items")]
    assert (await pos.row(order["id"])).version == 1


@pytest.mark.parametrize(
    "document, line",
    [(UPDATE, {"quantity": 1}), (SPLIT, {"quantity": 1})],
    ids=["updateSaleOrderItems", "splitSaleOrder"],
)
async def test_exactly_the_cap_of_lines_is_checked_line_by_line(pos, document, line):
    order = await pos.order()
    payload = await pos.call(
        document, {"o": order["id"], "items": [{"itemId": i, **line} for i in ids(limits.MAX_LINES)]}
    )
    assert codes(payload) == [("NOT_FOUND", f"items.{i}.itemId") for i in range(limits.MAX_LINES)]


# With no cap, the repeat checks run on 100,000 entries, the repeat last: a check that
# compared every entry with every other would never finish; a set finds it at once.
MANY = 100_000


def test_repeated_order_ids_are_found_with_a_set():
    values = ids(MANY - 1)
    with pytest.raises(DomainError) as caught:
        rules.distinct_ids([*values, values[0]], "sourceOrderIds", "Order")
    assert (caught.value.code, caught.value.field) == ("VALIDATION", f"sourceOrderIds.{MANY - 1}")
    assert len(rules.distinct_ids(values, "sourceOrderIds", "Order")) == MANY - 1


def test_merge_finds_a_repeat_or_the_target_in_a_long_list(monkeypatch):
    monkeypatch.setattr(limits, "MAX_MERGED_ORDERS", MANY)
    target, *sources = ids(MANY)
    with pytest.raises(DomainError) as caught:
        merge.prepare_merge(target, [*sources, target])
    assert caught.value.field == f"sourceOrderIds.{MANY - 1}"
    assert len(merge.prepare_merge(target, sources)[1]) == MANY - 1


def test_split_and_bulk_update_find_a_repeated_line_in_a_long_list(monkeypatch):
    monkeypatch.setattr(limits, "MAX_LINES", MANY)
    lines = ids(MANY - 1)
    with pytest.raises(DomainError) as caught:
        split.prepare_split(str(uuid.uuid4()), [(line, 1) for line in [*lines, lines[0]]])
    assert [(e.code, e.field) for e in caught.value.all()] == [("VALIDATION", f"items.{MANY - 1}.itemId")]
    with pytest.raises(DomainError) as caught:
        items.prepare_updates([(line, 1, None, None) for line in [*lines, lines[0]]])
    assert [(e.code, e.field) for e in caught.value.all()] == [("VALIDATION", f"items.{MANY - 1}.itemId")]
