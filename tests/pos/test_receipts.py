"""Receipts over GraphQL: what a sale stored is what its receipt prints; a customer gets only their
own, staff any, and nobody signed out."""

from __future__ import annotations

import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from app.db.engine import Database
from app.domain.sales.models import Sale
from app.main import create_app
from tests.commerce.shop import Shop
from tests.conftest import GraphQLClient, make_settings
from tests.pos.test_checkout import PAY, pay_input
from tests.pos.test_manual_discount import DISCOUNT
from tests.shifts.drawer import open_shift
from tests.sql_recorder import record_sql
from tests.taxes.helpers import tax_rate, taxed_product

RECEIPT = "query($id: ID!) { receipt(saleId: $id) { text html } }"
SALE_RECEIPT = "query($id: ID!) { sale(id: $id) { number receipt { text html } } }"
SALES_RECEIPTS = "query($n: Int) { sales(first: $n) { edges { node { number receipt { text } } } } }"


def amount_on(text: str, label: str) -> Decimal:
    """The amount printed at the right of the line that starts with `label`."""
    [line] = [line for line in text.splitlines() if line.startswith(label)]
    return Decimal(line.split()[-1].replace(",", ""))


@pytest.fixture
async def sold(db, pos, users):
    """A customer's POS sale with a coupon, paid in cash with change, then one redeeming points."""
    await open_shift(pos, "front")
    customer, customer_token = await users.signed_in("CUSTOMER", name="Ana Núñez")
    await Shop(db).coupon("TEN", kind="FIXED", value="10.00")
    kibble = await pos.product("Kibble <Salmon & Rice>", "12.00")
    trim = await pos.service("Nail trim", "7.50")
    order = await pos.order(customer_id=str(customer.id))
    await pos.add(order["id"], kibble, 3)
    await pos.add(order["id"], trim, 1)
    first = (await pos.ok(PAY, pay_input(order["id"], tendered="100.00", couponCode="TEN")))["sale"]
    again = await pos.order(customer_id=str(customer.id))
    await pos.add(again["id"], trim, 1)
    second = (await pos.ok(PAY, pay_input(again["id"], method="CARD", redeemPoints=33)))["sale"]
    return customer_token, first, second


async def stored(db, sale_id: str) -> Sale:
    async with db.read() as session:
        return (await session.scalars(select(Sale).where(Sale.id == uuid.UUID(sale_id)))).one()


async def test_a_receipt_prints_what_the_sale_stored(db, pos, sold):
    _, first, second = sold
    for sale in (first, second):
        row = await stored(db, sale["id"])
        result = await pos.gql(RECEIPT, {"id": sale["id"]}, token=pos.token)
        text = result["data"]["receipt"]["text"]
        assert text.splitlines()[0].strip() == "petpos pet store"  # PETPOS_STORE_NAME's default
        assert f"Sale {row.number}" in text and row.created_at.strftime("%Y-%m-%d %H:%M UTC") in text
        assert amount_on(text, "Subtotal") == row.subtotal
        assert amount_on(text, "TOTAL USD") == row.total
        assert amount_on(text, "Tax") == row.tax
        assert amount_on(text, "Points earned") == row.points_earned
        assert amount_on(text, "Points redeemed") == row.points_redeemed
        discounts = sum(-amount_on(text, label) for label in ("Coupon", "Points (") if label in text)
        assert row.subtotal - discounts + row.tax == row.total
        items = [line for line in text.splitlines() if line.startswith("  ") and " x " in line]
        assert sum(Decimal(line.split()[-1]) for line in items) == row.subtotal
        assert max(len(line) for line in text.splitlines()) <= 42
    first_text = (await pos.gql(RECEIPT, {"id": first["id"]}, token=pos.token))["data"]["receipt"]["text"]
    assert "Kibble <Salmon & Rice>\n  3 x 12.00" in first_text
    assert (amount_on(first_text, "Coupon TEN"), amount_on(first_text, "Cash")) == (Decimal("-10.00"), 100)
    assert amount_on(first_text, "Change") == Decimal(first["change"]["amount"]) == Decimal("66.50")
    second_text = (await pos.gql(RECEIPT, {"id": second["id"]}, token=pos.token))["data"]["receipt"]["text"]
    assert amount_on(second_text, "Points (33)") == Decimal("-0.33")
    assert amount_on(second_text, "Card") == Decimal(second["total"]["amount"])
    assert "Change" not in second_text
    html = (await pos.gql(RECEIPT, {"id": first["id"]}, token=pos.token))["data"]["receipt"]["html"]
    assert "Kibble &lt;Salmon &amp; Rice&gt;" in html and "<Salmon" not in html


async def test_sale_receipt_is_the_same_as_the_receipt_query(pos, sold):
    _, first, _ = sold
    by_query = (await pos.gql(RECEIPT, {"id": first["id"]}, token=pos.token))["data"]["receipt"]
    by_field = (await pos.gql(SALE_RECEIPT, {"id": first["id"]}, token=pos.token))["data"]["sale"]["receipt"]
    assert by_field == by_query


async def test_a_customer_gets_their_own_receipts_and_nobody_elses(gql, pos, users, sold):
    owner_token, first, _ = sold
    own = await gql(RECEIPT, {"id": first["id"]}, token=owner_token)
    assert "TOTAL USD" in own["data"]["receipt"]["text"]
    _, stranger = await users.signed_in("CUSTOMER")
    # Someone else's sale answers exactly as a sale that does not exist, or a malformed id.
    for sale_id in (first["id"], str(uuid.uuid4()), "not-an-id"):
        assert await gql(RECEIPT, {"id": sale_id}, token=stranger) == {"data": {"receipt": None}}
        assert await gql(SALE_RECEIPT, {"id": sale_id}, token=stranger) == {"data": {"sale": None}}
    _, admin = await users.signed_in("ADMIN")
    for token in (pos.token, admin):
        assert (await gql(RECEIPT, {"id": first["id"]}, token=token))["data"]["receipt"] == own["data"][
            "receipt"
        ]
    anonymous = await gql(RECEIPT, {"id": first["id"]})
    assert anonymous["data"] == {"receipt": None}
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]


async def test_receipts_of_a_page_of_sales_cost_the_same_statements_as_one(db, pos, sold):
    async def statements(first: int) -> int:
        with record_sql(db.engine) as sql:
            result = await pos.gql(SALES_RECEIPTS, {"n": first}, token=pos.token)
        assert len(result["data"]["sales"]["edges"]) == first
        return sql.count()

    assert await statements(1) == await statements(2)


async def test_sales_looked_up_under_aliases_share_one_read_per_table(db, pos, sold):
    """Each alias of `sale(id:)` (and `receipt`) goes through the operation's DataLoaders."""
    _, first, second = sold

    async def statements(*ids: str) -> int:
        fields = " ".join(
            f'a{i}: sale(id: "{sale_id}") {{ number lines {{ name }} receipt {{ text }} }} '
            f'r{i}: receipt(saleId: "{sale_id}") {{ text }}'
            for i, sale_id in enumerate(ids)
        )
        with record_sql(db.engine) as sql:
            result = await pos.gql(f"{{ {fields} }}", token=pos.token)
        assert "errors" not in result and all(result["data"].values()), result
        return sql.count()

    assert await statements(first["id"], second["id"], first["id"]) == await statements(first["id"])


async def receipt_served_with(database_url: str, token: str, sale_id: str, **settings) -> dict:
    """The sale's receipt from a server started with these settings."""
    configured = make_settings(database_url, **settings)
    db = Database(configured)
    try:
        app = create_app(configured, db)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://petpos.test"
        ) as c:
            result = await GraphQLClient(c)(RECEIPT, {"id": sale_id}, token=token)
    finally:
        await db.dispose()
    return result["data"]["receipt"]


async def test_the_store_name_comes_from_the_setting(database_url, pos, sold):
    _, first, _ = sold
    receipt = await receipt_served_with(database_url, pos.token, first["id"], store_name="Happy Paws & Co")
    assert receipt["text"].splitlines()[0].strip() == "Happy Paws & Co"
    assert "Happy Paws &amp; Co</h1>" in receipt["html"]


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
async def test_the_sale_time_is_given_in_the_store_time_zone(database_url, db, pos, sold, zone):
    _, first, _ = sold
    local = (await stored(db, first["id"])).created_at.astimezone(ZoneInfo(zone))
    shown = f"{local:%Y-%m-%d %H:%M} {local.tzname()}"  # EST or EDT; IST
    receipt = await receipt_served_with(database_url, pos.token, first["id"], store_timezone=zone)
    assert shown in receipt["text"] and shown in receipt["html"]
    assert "UTC" not in receipt["text"]


async def test_a_receipt_prints_the_staff_discount_the_tax_and_each_tender(db, pos):
    """Tax, the staff discount and a split payment come from the sale's own rows."""
    await open_shift(pos, "front")
    rate = await tax_rate(db, "8.25", "Sales tax")
    order = await pos.order()
    await pos.add(order["id"], await taxed_product(db, "BED", "40.00", rate), 1)
    await pos.ok(DISCOUNT, {"o": order["id"], "p": "10", "r": "regular"})  # 36.00, then 8.25% = 2.97
    tenders = [
        {"method": "CARD", "amount": "20.00", "reference": "4242"},
        {"method": "CASH", "amount": "20.00"},
    ]
    sale = (
        await pos.ok(
            PAY,
            {"i": {"orderId": order["id"], "idempotencyKey": "r-1", "tenders": tenders, "register": "front"}},
        )
    )["sale"]
    row = await stored(db, sale["id"])
    text = (await pos.gql(RECEIPT, {"id": sale["id"]}, token=pos.token))["data"]["receipt"]["text"]
    assert (amount_on(text, "Staff discount"), amount_on(text, "Tax")) == (Decimal("-4.00"), Decimal("2.97"))
    assert (row.manual_discount, row.tax, row.total) == (Decimal("4.00"), Decimal("2.97"), Decimal("38.97"))
    assert amount_on(text, "TOTAL USD") == row.total
    assert (amount_on(text, "Card (4242)"), amount_on(text, "Cash")) == (Decimal("20.00"), Decimal("20.00"))
    assert amount_on(text, "Change") == row.change == Decimal("1.03")
