"""POS orders are for STAFF and ADMIN: anonymous callers are UNAUTHENTICATED, customers
FORBIDDEN, and neither learns or changes anything."""

from __future__ import annotations

import pytest

from tests.pos.conftest import ADD, CANCEL, CLEAR, CREATE, MERGE, ORDER, REMOVE, SPLIT, UPDATE

LIST = "{ saleOrders { edges { node { id } } } }"


def operations(order_id: str, product_id: str, line_id: str) -> list[tuple[str, dict]]:
    return [
        (CREATE, {"i": {"label": "x"}}),
        (ADD, {"i": {"orderId": order_id, "itemType": "PRODUCT", "itemId": product_id, "quantity": 1}}),
        (UPDATE, {"o": order_id, "items": [{"itemId": line_id, "quantity": 5}]}),
        (REMOVE, {"o": order_id, "l": line_id}),
        (CLEAR, {"o": order_id}),
        (CANCEL, {"o": order_id}),
        (MERGE, {"t": order_id, "s": [order_id]}),
        (SPLIT, {"o": order_id, "items": [{"itemId": line_id, "quantity": 1}]}),
        (ORDER, {"id": order_id}),
        (LIST, {}),
    ]


@pytest.mark.parametrize("who,code", [("anonymous", "UNAUTHENTICATED"), ("CUSTOMER", "FORBIDDEN")])
async def test_only_staff_and_admins_see_or_change_orders(pos, users, who, code):
    order = await pos.order()
    burger = await pos.product()
    line = (await pos.add(order["id"], burger, 2))["order"]["items"][0]
    token = None if who == "anonymous" else (await users.signed_in(who))[1]
    for document, variables in operations(order["id"], str(burger.id), line["id"]):
        result = await pos.gql(document, variables, token=token)
        assert result["data"] is None or next(iter(result["data"].values())) is None, document
        assert [e["extensions"]["code"] for e in result["errors"]] == [code], document
    row = await pos.row(order["id"])
    assert (row.status, row.version) == ("DRAFT", 2)
    assert [l.quantity for l in await pos.lines(order["id"])] == [2]


async def test_an_admin_works_orders_like_staff(pos, users):
    _, admin = await users.signed_in("ADMIN")
    order = (await pos.ok(CREATE, {"i": {"label": "admin"}}, token=admin))["order"]
    burger = await pos.product()
    added = await pos.add(order["id"], burger, 1, token=admin)
    assert added["errors"] == [] and added["order"]["version"] == 2
