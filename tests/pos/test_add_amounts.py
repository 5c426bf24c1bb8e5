"""An add answers with the order's amounts (subtotal, staff discount, tax, total) from its own
statement's RETURNING, not from a read after it: they must be exactly what a fresh read of the
order shows, whatever the lines, their items' tax rates, a staff discount and the tax mode."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.taxes.helpers import set_rate, tax_rate, taxed_product, taxed_service

AMOUNTS = "version subtotal { amount } manualDiscount { amount } tax { amount } total { amount }"
ADD = f"""mutation($i: AddSaleOrderItemInput!) {{ addSaleOrderItem(input: $i) {{
  errors {{ code }} order {{ {AMOUNTS} }} }} }}"""
READ = f"query($id: ID!) {{ saleOrder(id: $id) {{ {AMOUNTS} }} }}"
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
