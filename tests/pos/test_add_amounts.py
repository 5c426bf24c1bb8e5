"""An add answers with the order's amounts (subtotal, staff discount, tax, total) from its own
statement's RETURNING, not from a read after it: they must be exactly what a fresh read of the
order shows, whatever the lines, their items' tax rates, a staff discount and the tax mode."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.pos import items
from tests.taxes.helpers import set_rate, tax_rate, taxed_product, taxed_service

AMOUNTS = "version subtotal { amount } manualDiscount { amount } tax { amount } total { amount }"
ADD = f"""mutation($i: AddSaleOrderItemInput!) {{ addSaleOrderItem(input: $i) {{
  errors {{ code }} order {{ {AMOUNTS} }} }} }}"""
READ = f"query($id: ID!) {{ saleOrder(id: $id) {{ {AMOUNTS} }} }}"
CENT_OFF = """mutation($o: ID!) {
  setSaleOrderDiscount(orderId: $o, amount: "0.01", reason: "Rounding") { errors { code } } }"""
DISCOUNT = """mutation($o: ID!, $p: Decimal!) {
  setSaleOrderDiscount(orderId: $o, percent: $p, reason: "Regular") { errors { code } } }"""

# (item, quantity, CUSTOM unit price and discount or None for STANDARD)
adds = st.lists(
    st.tuples(
        st.integers(0, 4),
        st.integers(1, 7),
        st.one_of(
            st.none(), st.tuples(st.sampled_from(["0.99", "3.33", "10.00"]), st.sampled_from(["0", "0.01"]))
        ),
    ),
    min_size=1,
    max_size=6,
)


@pytest.fixture
async def catalogue(db):
    """Items at rates that make rounding and the order of the lines matter, and one whose rate is
    retired (it sells untaxed)."""
    eight, fifty, retired = [await tax_rate(db, rate) for rate in ("8.25", "50", "20")]
    await set_rate(db, retired.id, active=False)
    return [
        await taxed_product(db, "CHEW", "3.33", eight),
        await taxed_product(db, "BALL", "0.99", fifty),
        await taxed_product(db, "BOWL", "7.50"),
        await taxed_product(db, "LEASH", "12.49", retired),
        await taxed_service(db, "Nail trim", "12.50", eight),
    ]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wanted=adds, percent=st.sampled_from([None, "10", "12.345"]), included=st.booleans())
async def test_an_adds_amounts_are_what_a_fresh_read_of_the_order_shows(
    pos, catalogue, settings, monkeypatch, wanted, percent, included
):
    monkeypatch.setattr(settings, "prices_include_tax", included)
    order = await pos.order()
    if percent is not None:
        assert (await pos.call(DISCOUNT, {"o": order["id"], "p": percent}))["errors"] == []
    for item, quantity, custom in wanted:
        line = {"orderId": order["id"], "itemId": str(catalogue[item].id), "quantity": quantity}
        line["itemType"] = "SERVICE" if item == 4 else "PRODUCT"
        if custom is not None:
            line.update(mode="CUSTOM", unitPrice=custom[0], discount=custom[1])
        added = await pos.call(ADD, {"i": line})
        assert added["errors"] == []
        fresh = await pos.gql(READ, {"id": order["id"]}, token=pos.token)
        assert added["order"] == fresh["data"]["saleOrder"]


async def test_the_lines_amounts_come_in_the_order_a_read_lists_them(pos, db, monkeypatch):
    """A staff discount that leaves cents over gives them to the first lines as listed (oldest
    first), and only one line is taxed: the add's answer must list the lines as a read does, not
    by id. The ids are handed out in the reverse order of the adds, so the two orders differ."""
    rate = await tax_rate(db, "8.25")
    taxed, untaxed = await taxed_product(db, "TAXED", "1.00", rate), await taxed_product(db, "PLAIN", "1.00")
    ids = iter(uuid.UUID(int=n) for n in (3 << 64, 2 << 64, 1 << 64))
    monkeypatch.setattr(items, "uuid", SimpleNamespace(uuid4=lambda: next(ids)))
    order = await pos.order()

    async def add(product) -> dict:
        line = {"orderId": order["id"], "itemType": "PRODUCT", "itemId": str(product.id), "quantity": 1}
        added = await pos.call(ADD, {"i": line | {"mode": "CUSTOM", "unitPrice": "10.00"}})
        assert added["errors"] == []
        return added["order"]

    await add(taxed)
    await add(untaxed)
    assert (await pos.call(CENT_OFF, {"o": order["id"]}))["errors"] == []
    answered = await add(untaxed)
    fresh = (await pos.gql(READ, {"id": order["id"]}, token=pos.token))["data"]["saleOrder"]
    # 29.99 shared as 10.00, 10.00, 9.99 in the order listed: the taxed line, first, keeps 10.00.
    assert answered["tax"] == fresh["tax"] == {"amount": "0.83"}
    assert answered == fresh
