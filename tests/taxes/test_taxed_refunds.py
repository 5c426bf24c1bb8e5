"""Refunds give back each unit's share of its line's tax: refunding a whole sale in any number of
steps returns exactly its total and exactly its tax."""

from __future__ import annotations

import uuid
from decimal import Decimal

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from app.domain import money
from app.domain.sales import refunds
from app.domain.sales.recording import Payment, SaleItem, record_sale
from app.domain.sales.views import lines_by_sale
from tests.commerce.shop import Shop
from tests.invariants import assert_invariants
from tests.taxes.helpers import tax_rate, taxed_product, unit

D = Decimal
lines = st.lists(
    st.tuples(
        st.decimals(min_value=D("0.01"), max_value=D("300"), places=2),  # price
        st.integers(min_value=1, max_value=6),  # quantity
        st.sampled_from([None, "5", "8.25", "19.999", "100"]),  # rate
    ),
    min_size=1,
    max_size=4,
)


async def _sale(db, by, wanted, off: str | None, included: bool):
    items = []
    for price, quantity, rate in wanted:
        made = await tax_rate(db, rate, f"R{uuid.uuid4().hex[:8]}") if rate else None
        product = await taxed_product(db, f"P{uuid.uuid4().hex[:10]}".upper(), str(price), made)
        items.append(SaleItem("PRODUCT", product.id, quantity))
    coupon = await Shop(db).coupon(f"C{uuid.uuid4().hex[:8]}", value=off) if off else None
    return await unit(
        db,
        lambda uow: record_sale(
            uow,
            channel="ONLINE",
            items=items,
            customer_id=None,
            coupon_id=coupon.id if coupon else None,
            redeem_points=0,
            payment=Payment("ONLINE"),
            by=by,
            prices_include_tax=included,
        ),
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), wanted=lines, off=st.sampled_from([None, "10", "33"]), included=st.booleans())
async def test_a_sale_refunded_in_any_steps_returns_exactly_its_total_and_its_tax(
    db, users, data, wanted, off, included
):
    subtotal = sum((price * quantity for price, quantity, _ in wanted), money.ZERO)
    # A coupon that would take nothing off is refused at checkout (tests/commerce): not this case.
    assume(off is None or money.cents(subtotal * D(off) / 100) > 0)
    staff = await users.create("STAFF")
    sale = await _sale(db, staff.id, wanted, off, included)
    async with db.read() as session:
        sold = (await lines_by_sale(session, [sale.id]))[sale.id]
    left = [line.quantity for line in sold]  # by position: the draws must not depend on random ids
    returned, tax = money.ZERO, money.ZERO
    while any(left):
        position = data.draw(st.sampled_from([i for i, units in enumerate(left) if units]))
        quantity = data.draw(st.integers(min_value=1, max_value=left[position]))
        left[position] -= quantity
        request = refunds.prepare_refund(
            sale_id=str(sale.id),
            lines=[(str(sold[position].id), quantity)],
            reason="back",
            key=uuid.uuid4().hex,
        )
        refund, _ = await unit(db, lambda uow: refunds.refund_sale(uow, request=request, by=staff.id))
        assert refund.tax >= 0 and refund.amount >= 0
        returned += refund.amount
        tax += refund.tax
    assert (returned, tax) == (sale.total, sale.tax)
    await assert_invariants(db)
