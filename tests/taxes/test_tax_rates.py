"""Tax rates (ADMIN): create, change, list; products and services point at one or none."""

from __future__ import annotations

import uuid

import pytest

from tests.taxes.helpers import set_rate, tax_rate, taxed_product

RATE_FIELDS = "taxRate { id name rate active } errors { code field message }"
CREATE = f"mutation($i: TaxRateInput!) {{ createTaxRate(input: $i) {{ {RATE_FIELDS} }} }}"
UPDATE = (
    "mutation($id: ID!, $rate: Decimal, $name: String, $active: Boolean) {"
    f" updateTaxRate(id: $id, rate: $rate, name: $name, active: $active) {{ {RATE_FIELDS} }} }}"
)
RATES = "query($all: Boolean) { taxRates(includeInactive: $all) { name rate active } }"
CREATE_PRODUCT = """mutation($i: ProductInput!) { createProduct(input: $i) {
  product { id taxRate { name rate } } errors { code field message } } }"""
UPDATE_PRODUCT = """mutation($id: ID!, $i: ProductUpdateInput!) { updateProduct(id: $id, input: $i) {
  product { id price { amount } taxRate { name } } errors { code field message } } }"""
CREATE_SERVICE = """mutation($i: ServiceInput!) { createService(input: $i) {
  service { id taxRate { name } } errors { code field message } } }"""
UPDATE_SERVICE = """mutation($id: ID!, $i: ServiceUpdateInput!) { updateService(id: $id, input: $i) {
  service { id taxRate { name } } errors { code field message } } }"""


def errors(payload: dict) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def test_an_admin_creates_and_changes_a_rate(gql, users):
    _, admin = await users.signed_in("ADMIN")
    made = (await gql(CREATE, {"i": {"name": " State tax ", "rate": "8.25"}}, token=admin))["data"]
    rate = made["createTaxRate"]["taxRate"]
    assert (rate["name"], rate["rate"], rate["active"]) == ("State tax", "8.250", True)
    changed = (await gql(UPDATE, {"id": rate["id"], "rate": "9.5", "active": False}, token=admin))["data"]
    assert changed["updateTaxRate"]["taxRate"] == {
        "id": rate["id"],
        "name": "State tax",
        "rate": "9.500",
        "active": False,
    }


async def test_a_rate_of_minus_zero_is_zero(gql, users):
    _, admin = await users.signed_in("ADMIN")
    made = (await gql(CREATE, {"i": {"name": "Exempt", "rate": "-0"}}, token=admin))["data"]
    assert made["createTaxRate"]["taxRate"]["rate"] == "0.000", made


@pytest.mark.parametrize(
    ("rate", "name", "field"),
    [
        ("100.5", "Too much", "rate"),
        ("-1", "Negative", "rate"),
        ("8.2501", "Four decimals", "rate"),
        ("8", "  ", "name"),
        ("8", "x" * 101, "name"),
    ],
)
async def test_bad_rates_are_refused_with_the_field_at_fault(gql, users, rate, name, field):
    _, admin = await users.signed_in("ADMIN")
    payload = (await gql(CREATE, {"i": {"name": name, "rate": rate}}, token=admin))["data"]["createTaxRate"]
    assert (payload["taxRate"], errors(payload)) == (None, [("VALIDATION", field)])
    assert (await gql(RATES, {"all": True}, token=admin))["data"]["taxRates"] == []


async def test_names_are_unique_in_any_letter_case_and_an_unknown_rate_is_not_found(gql, users, db):
    _, admin = await users.signed_in("ADMIN")
    city = await tax_rate(db, "5", "City tax")
    state = await tax_rate(db, "4", "State tax")
    for name in ("City tax", "CITY TAX", "city tax", " city \t tax\n"):
        taken = (await gql(CREATE, {"i": {"name": name, "rate": "6"}}, token=admin))["data"]
        assert errors(taken["createTaxRate"]) == [("CONFLICT", "name")], name
    renamed = (await gql(UPDATE, {"id": str(state.id), "name": "city TAX"}, token=admin))["data"]
    assert errors(renamed["updateTaxRate"]) == [("CONFLICT", "name")]
    recased = (await gql(UPDATE, {"id": str(city.id), "name": "City Tax"}, token=admin))["data"]
    assert recased["updateTaxRate"]["taxRate"]["name"] == "City Tax"  # its own name, another case
    assert [r["name"] for r in (await gql(RATES, {"all": True}, token=admin))["data"]["taxRates"]] == [
        "City Tax",
        "State tax",
    ]
    missing = (await gql(UPDATE, {"id": str(uuid.uuid4()), "rate": "1"}, token=admin))["data"]
    assert errors(missing["updateTaxRate"]) == [("NOT_FOUND", "id")]
    bad = (await gql(UPDATE, {"id": str(uuid.uuid4()), "rate": "101"}, token=admin))["data"]
    assert errors(bad["updateTaxRate"]) == [("VALIDATION", "rate")]


@pytest.mark.parametrize("role", ["STAFF", "CUSTOMER"])
async def test_only_an_admin_manages_rates(gql, users, db, role):
    _, token = await users.signed_in(role)
    rate = await tax_rate(db, "5")
    for document, variables in (
        (CREATE, {"i": {"name": "Mine", "rate": "1"}}),
        (UPDATE, {"id": str(rate.id), "rate": "0"}),
    ):
        result = await gql(document, variables, token=token)
        assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await gql(RATES, {}))["data"]["taxRates"] == [{"name": "Tax 5%", "rate": "5.000", "active": True}]


async def test_retired_rates_are_listed_for_staff_only(gql, users, db):
    _, staff = await users.signed_in("STAFF")
    _, customer = await users.signed_in("CUSTOMER")
    await tax_rate(db, "5", "B")
    old = await tax_rate(db, "7", "A")
    await set_rate(db, old.id, active=False)
    assert [r["name"] for r in (await gql(RATES, {}, token=customer))["data"]["taxRates"]] == ["B"]
    assert [r["name"] for r in (await gql(RATES, {"all": True}, token=staff))["data"]["taxRates"]] == [
        "A",
        "B",
    ]
    refused = await gql(RATES, {"all": True}, token=customer)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    signed_out = await gql(RATES, {"all": True})
    assert signed_out["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_products_and_services_take_a_rate_change_it_and_clear_it(gql, users, db):
    _, staff = await users.signed_in("STAFF")
    food, toys = await tax_rate(db, "5", "Food"), await tax_rate(db, "20", "Toys")
    made = (
        await gql(
            CREATE_PRODUCT,
            {
                "i": {
                    "sku": "BONE",
                    "name": "Bone",
                    "category": "TOY",
                    "price": "3.00",
                    "taxRateId": str(toys.id),
                }
            },
            token=staff,
        )
    )["data"]["createProduct"]
    assert made["product"]["taxRate"] == {"name": "Toys", "rate": "20.000"}
    product_id = made["product"]["id"]
    moved = await gql(UPDATE_PRODUCT, {"id": product_id, "i": {"taxRateId": str(food.id)}}, token=staff)
    assert moved["data"]["updateProduct"]["product"]["taxRate"] == {"name": "Food"}
    kept = await gql(UPDATE_PRODUCT, {"id": product_id, "i": {"price": "4.00"}}, token=staff)
    assert kept["data"]["updateProduct"]["product"]["taxRate"] == {"name": "Food"}
    # An empty id, a form's empty choice, is as if left out (it was NOT_FOUND).
    empty = await gql(
        UPDATE_PRODUCT, {"id": product_id, "i": {"taxRateId": "", "price": "5.00"}}, token=staff
    )
    assert empty["data"]["updateProduct"]["product"]["taxRate"] == {"name": "Food"}, empty
    cleared = await gql(
        UPDATE_PRODUCT,
        {"id": product_id, "i": {"taxRateId": str(toys.id), "clearTaxRate": True}},
        token=staff,
    )
    assert cleared["data"]["updateProduct"]["product"]["taxRate"] is None

    service = (
        await gql(
            CREATE_SERVICE,
            {"i": {"name": "Bath", "price": "20.00", "durationMinutes": 30, "taxRateId": str(food.id)}},
            token=staff,
        )
    )["data"]["createService"]["service"]
    assert service["taxRate"] == {"name": "Food"}
    cleared = await gql(UPDATE_SERVICE, {"id": service["id"], "i": {"clearTaxRate": True}}, token=staff)
    assert cleared["data"]["updateService"]["service"]["taxRate"] is None
    untaxed = await gql(
        CREATE_SERVICE,
        {"i": {"name": "Trim", "price": "5.00", "durationMinutes": 10, "taxRateId": ""}},
        token=staff,
    )
    assert untaxed["data"]["createService"]["service"]["taxRate"] is None, untaxed


async def test_a_retired_or_unknown_rate_cannot_be_given_to_an_item(gql, users, db):
    _, staff = await users.signed_in("STAFF")
    retired = await tax_rate(db, "5")
    await set_rate(db, retired.id, active=False)
    product = await taxed_product(db, "KIBBLE", "10.00")
    for rate_id, code in (
        (str(retired.id), "VALIDATION"),
        (str(uuid.uuid4()), "NOT_FOUND"),
        ("x", "NOT_FOUND"),
    ):
        result = await gql(UPDATE_PRODUCT, {"id": str(product.id), "i": {"taxRateId": rate_id}}, token=staff)
        assert errors(result["data"]["updateProduct"]) == [(code, "taxRateId")]
        made = await gql(
            CREATE_SERVICE,
            {"i": {"name": "Bath", "price": "20.00", "durationMinutes": 30, "taxRateId": rate_id}},
            token=staff,
        )
        assert errors(made["data"]["createService"]) == [(code, "taxRateId")]


async def test_an_unknown_rate_is_reported_with_every_other_bad_field(gql, users, db):
    _, staff = await users.signed_in("STAFF")
    product = await taxed_product(db, "KIBBLE", "10.00")
    unknown = str(uuid.uuid4())
    made = await gql(
        CREATE_PRODUCT,
        {"i": {"sku": "", "name": "", "category": "TOY", "price": "0", "stock": -1, "taxRateId": unknown}},
        token=staff,
    )
    assert errors(made["data"]["createProduct"]) == [
        ("VALIDATION", "sku"),
        ("VALIDATION", "name"),
        ("VALIDATION", "price"),
        ("VALIDATION", "stock"),
        ("NOT_FOUND", "taxRateId"),
    ]
    changed = await gql(
        UPDATE_PRODUCT,
        {"id": str(product.id), "i": {"name": " ", "price": "0", "taxRateId": "x"}},
        token=staff,
    )
    assert errors(changed["data"]["updateProduct"]) == [
        ("VALIDATION", "name"),
        ("VALIDATION", "price"),
        ("NOT_FOUND", "taxRateId"),
    ]
    service = await gql(
        CREATE_SERVICE,
        {"i": {"name": "", "price": "1.00", "durationMinutes": 0, "taxRateId": unknown}},
        token=staff,
    )
    assert errors(service["data"]["createService"]) == [
        ("VALIDATION", "name"),
        ("VALIDATION", "durationMinutes"),
        ("NOT_FOUND", "taxRateId"),
    ]
