"""The tax arithmetic alone (app/domain/sales/tax.py): rates from input, one line's tax, a sale's
lines after sale-level discounts, and refunds that add up to the whole in any steps."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import money
from app.domain.errors import DomainError
from app.domain.sales import tax

D = Decimal


@pytest.mark.parametrize("value", ["0", "8.25", "8.250", "100", "0.001", "19.999"])
def test_a_rate_is_a_percent_from_0_to_100_with_at_most_three_decimals(value):
    assert tax.rate(D(value)) == D(value).quantize(D("0.001"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8.2501", "three decimals"),
        ("-0.001", "between 0 and 100"),
        ("100.001", "between 0 and 100"),
        ("1e28", "between 0 and 100"),  # past what quantize holds in thousandths: still the range
        ("-1e40", "between 0 and 100"),
        ("NaN", "Not a percent"),
        ("Infinity", "Not a percent"),
        ("sNaN", "Not a percent"),
    ],
)
def test_a_bad_rate_is_a_clean_validation_error(value, message):
    with pytest.raises(DomainError) as refused:
        tax.rate(D(value), "input.rate")
    assert (refused.value.code, refused.value.field) == ("VALIDATION", "input.rate")
    assert message in refused.value.message


def test_tax_on_top_and_tax_extracted_round_half_up_to_cents():
    assert tax.line_tax(D("10.00"), D("8.25"), included=False) == D("0.83")  # 0.825 -> up
    assert tax.line_tax(D("1.00"), D("2.5"), included=False) == D("0.03")  # 0.025 -> up
    assert tax.line_tax(D("10.83"), D("8.25"), included=True) == D("0.83")  # 10.83 * 8.25/108.25
    assert tax.line_tax(D("120.00"), D("20"), included=True) == D("20.00")
    assert tax.line_tax(D("10.00"), None, included=False) == money.ZERO
    assert tax.line_tax(D("10.00"), D("0"), included=True) == money.ZERO


def test_sale_level_discounts_are_shared_by_amount_before_each_line_is_taxed():
    # 30.00 + 10.00 with 4.00 off: shares 3.00 and 1.00; the lines are taxed on 27.00 and 9.00.
    taxed = tax.taxed([D("30.00"), D("10.00")], [D("10"), None], D("4.00"), included=False)
    assert taxed.nets == [D("27.00"), D("9.00")]
    assert taxed.taxes == [D("2.70"), D("0.00")]
    assert (taxed.tax, taxed.total) == (D("2.70"), D("38.70"))
    included = tax.taxed([D("30.00"), D("10.00")], [D("10"), None], D("4.00"), included=True)
    assert (included.taxes, included.total) == ([D("2.45"), D("0.00")], D("36.00"))


amounts = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)
rates = st.one_of(st.none(), st.decimals(min_value=D(0), max_value=D(100), places=3))


@given(
    lines=st.lists(st.tuples(amounts, rates), min_size=1, max_size=8),
    off=st.decimals(min_value=D(0), max_value=D(1), places=4),
    included=st.booleans(),
)
def test_the_nets_add_up_to_what_is_due_and_each_tax_is_its_net_times_its_rate(lines, off, included):
    totals = [amount for amount, _ in lines]
    discount = money.cents(sum(totals) * off)
    taxed = tax.taxed(totals, [rate for _, rate in lines], discount, included=included)
    assert sum(taxed.nets) == sum(totals) - discount
    assert all(D(0) <= net <= total for net, total in zip(taxed.nets, totals))
    for net, line_tax, (_, rate) in zip(taxed.nets, taxed.taxes, lines):
        assert line_tax == tax.line_tax(net, rate, included=included)
        assert line_tax >= 0 and (not included or line_tax <= net)
    assert taxed.tax == sum(taxed.taxes)
    assert taxed.total == sum(taxed.nets) + (0 if included else taxed.tax)


@given(
    amount=st.decimals(min_value=D(0), max_value=D("99999"), places=2),
    steps=st.lists(st.integers(min_value=1, max_value=5), min_size=1, max_size=12),
)
def test_refunding_a_line_in_any_steps_returns_exactly_the_amount(amount, steps):
    quantity = sum(steps)
    done, returned = 0, money.ZERO
    for units in steps:
        part = tax.refunded(amount, done, done + units, quantity)
        assert part >= 0
        done += units
        returned += part
        assert returned == tax.part(amount, done, quantity)
    assert returned == amount


cents = st.integers(min_value=0, max_value=99_999_999_999).map(lambda c: D(c) / 100)


@given(
    st.lists(cents, max_size=40), st.lists(st.sampled_from([None, D("0"), D("5"), D("8.25")]), max_size=40)
)
def test_without_a_discount_each_line_is_taxed_on_its_own_total_as_sharing_nothing_would(totals, rates):
    rates = (rates + [None] * len(totals))[: len(totals)]
    for included in (False, True):
        taxed = tax.taxed(totals, rates, money.ZERO, included=included)
        shared = money.share(sum(totals, money.ZERO), list(totals))
        assert taxed.nets == shared == totals
        assert taxed.taxes == [tax.line_tax(net, rate, included=included) for net, rate in zip(totals, rates)]
