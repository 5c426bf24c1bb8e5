"""The cash drawer and the counter over GraphQL, for tests that take or give back cash."""

from __future__ import annotations

import uuid

SHIFT_FIELDS = (
    "id register status openingFloat { amount } cashSales { amount } cashRefunds { amount } "
    "cashMovements { amount } expectedCash { amount } countedCash { amount } overShort { amount } "
    "salesCount tenderTotals { method amount { amount } } openedBy { id } closedBy { id } closedAt"
)
OPEN = (
    f"mutation($i: OpenShiftInput!) {{ openShift(input: $i) {{ shift {{ {SHIFT_FIELDS} }} "
    f"errors {{ code field message }} }} }}"
)
CLOSE = (
    f"mutation($i: CloseShiftInput!) {{ closeShift(input: $i) {{ shift {{ {SHIFT_FIELDS} }} "
    f"errors {{ code field message }} }} }}"
)
MOVE = (
    f"mutation($i: CashMovementInput!) {{ recordCashMovement(input: $i) {{ shift {{ {SHIFT_FIELDS} }} "
    f"errors {{ code field message }} }} }}"
)
SHIFT = f"query($id: ID!) {{ shift(id: $id) {{ {SHIFT_FIELDS} }} }}"
CURRENT = f"query($r: String!) {{ currentShift(register: $r) {{ {SHIFT_FIELDS} }} }}"
PAY = """mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) {
  errors { code field message }
  sale { id total { amount } paymentMethod amountTendered { amount } change { amount }
         tenders { method amount { amount } reference } shift { id register } } } }"""
REFUND = """mutation($i: RefundInput!) { refundSale(input: $i) {
  errors { code field message } refund { id amount { amount } method shift { id } } } }"""


async def open_shift(pos, register: str = "front", opening_float: str = "100.00", token: str | None = None):
    """Open `register`'s drawer as the `pos` tablet (tests/pos/conftest.py Pos)."""
    return (await pos.ok(OPEN, {"i": {"register": register, "openingFloat": opening_float}}, token))["shift"]


async def close_shift(pos, shift_id: str, counted: str) -> dict:
    return await pos.call(CLOSE, {"i": {"shiftId": shift_id, "countedCash": counted}})


async def read_shift(pos, shift_id: str) -> dict:
    return (await pos.gql(SHIFT, {"id": shift_id}, token=pos.token))["data"]["shift"]


def payment(order_id: str, **how) -> dict:
    return {"i": {"orderId": order_id, "idempotencyKey": uuid.uuid4().hex, **how}}


async def order_of(pos, *items) -> str:
    """A DRAFT order holding one of each catalogue item given."""
    order = await pos.order()
    for item in items:
        await pos.add(order["id"], item, 1)
    return order["id"]
