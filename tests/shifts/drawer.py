"""The cash drawer over GraphQL, for tests that take or give back cash."""

from __future__ import annotations

OPEN = """mutation($i: OpenShiftInput!) { openShift(input: $i) {
  shift { id register status openingFloat { amount } } errors { code field message } } }"""


async def open_shift(pos, register: str = "front", opening_float: str = "100.00", token: str | None = None):
    """Open `register`'s drawer as the `pos` tablet (tests/pos/conftest.py Pos)."""
    return (await pos.ok(OPEN, {"i": {"register": register, "openingFloat": opening_float}}, token))["shift"]
