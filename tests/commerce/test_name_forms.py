"""A name is kept in NFC: an accent typed as its own mark (as some keyboards and copied text send
it) is the one letter it looks like, so a search typed either way finds it and a tax rate cannot
take a name that looks like another's. Migration 0020 wrote older names so."""

from __future__ import annotations

import asyncio
import json

from alembic import command
from sqlalchemy import text

from app.migrations import alembic_config
from tests.e2e.test_cli import petpos

CREME, CREME_MARK = "Cr\u00e8me brush", "Cre\u0300me brush"  # è, and e with U+0300 after it
ZOE, ZOE_MARK = "Zo\u00eb Marsh", "Zoe\u0308 Marsh"
REDUIT, REDUIT_MARK = "R\u00e9duit", "Re\u0301duit"
PRODUCT = """mutation($n: String!, $s: String!) { createProduct(input: {sku: $s, name: $n,
  category: TOY, price: "1.00"}) { product { name } errors { code } } }"""
SERVICE = """mutation($n: String!) { createService(input: {name: $n, price: "5.00", durationMinutes: 10})
  { service { name } errors { code } } }"""
PET = """mutation($n: String!, $b: String) { createPet(input: {name: $n, species: DOG, breed: $b,
  ageMonths: 3, adoptionFee: "50.00"}) { pet { name breed } errors { code } } }"""
TAX = """mutation($n: String!) { createTaxRate(input: {name: $n, rate: "5"})
  { taxRate { name } errors { code field } } }"""
PRODUCTS = "query($s: String) { products(search: $s) { edges { node { name sku } } } }"
CUSTOMERS = "query($s: String!) { customers(search: $s) { edges { node { name } } } }"
NAMES = (("users", "name"), ("products", "name"), ("services", "name"), ("pets", "name"), ("pets", "breed"))


async def test_names_are_kept_in_nfc_and_found_typed_either_way(gql, users):
    _, admin = await users.signed_in("ADMIN")
    made = await gql(PRODUCT, {"n": CREME_MARK, "s": "TOY-FW"}, token=admin)
    assert made["data"]["createProduct"] == {"product": {"name": CREME}, "errors": []}
    for search in ("cr\u00e8me", "cre\u0300me", "\uff54\uff4f\uff59-\uff46\uff57"):  # the last: ｔｏｙ-ｆｗ
        found = (await gql(PRODUCTS, {"s": search}))["data"]["products"]["edges"]
        assert found == [{"node": {"name": CREME, "sku": "TOY-FW"}}], search

    service = await gql(SERVICE, {"n": CREME_MARK}, token=admin)
    assert service["data"]["createService"] == {"service": {"name": CREME}, "errors": []}
    pet = await gql(PET, {"n": ZOE_MARK, "b": "Bichon Frise\u0301"}, token=admin)
    assert pet["data"]["createPet"] == {"pet": {"name": ZOE, "breed": "Bichon Fris\u00e9"}, "errors": []}
    assert (await gql(TAX, {"n": REDUIT_MARK}, token=admin))["data"]["createTaxRate"]["errors"] == []
    taken = (await gql(TAX, {"n": "r\u00e9duit"}, token=admin))["data"]["createTaxRate"]
    assert taken == {"taxRate": None, "errors": [{"code": "CONFLICT", "field": "name"}]}

    # A word typed in a phone's full-width mode finds the name in plain letters: ｂｒｕｓｈ, ｍａｒｓｈ
    found = (await gql(PRODUCTS, {"s": "cr\u00e8me \uff42\uff52\uff55\uff53\uff48"}))["data"]["products"]
    assert found["edges"] == [{"node": {"name": CREME, "sku": "TOY-FW"}}]

    await users.create(name=ZOE_MARK, email="zoe@example.com")
    for search in ("zo\u00eb", "zoe\u0308 marsh", "\uff4d\uff41\uff52\uff53\uff48"):
        customers = (await gql(CUSTOMERS, {"s": search}, token=admin))["data"]["customers"]["edges"]
        assert customers == [{"node": {"name": ZOE}}], search


async def test_a_customer_search_is_measured_as_typed_not_in_lower_case(gql, users):
    """Lower case writes "İ" as two characters: 60 of them were refused as more than 100."""
    _, staff = await users.signed_in("STAFF")
    result = await gql(CUSTOMERS, {"s": "\u0130" * 60}, token=staff)
    assert result == {"data": {"customers": {"edges": []}}}


async def test_migration_0020_writes_names_in_nfc_and_stops_on_two_tax_rates_of_one_name(
    database_url, db, gql, users
):
    _, admin = await users.signed_in("ADMIN")
    await gql(PRODUCT, {"n": "Ball", "s": "BALL"}, token=admin)
    await gql(SERVICE, {"n": "Bath"}, token=admin)
    await gql(PET, {"n": "Rex", "b": "Beagle"}, token=admin)
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0019_register_nfkc")
    try:
        async with db.engine.begin() as connection:  # as an earlier petpos kept them
            for table, column in NAMES:
                await connection.execute(text(f"UPDATE {table} SET {column} = :n"), {"n": ZOE_MARK})
            add = "INSERT INTO tax_rates (id, name, rate) VALUES (gen_random_uuid(), :name, 5)"
            for name in (REDUIT_MARK, REDUIT):  # lower() tells them apart
                await connection.execute(text(add), {"name": name})
            ids = dict((await connection.execute(text("SELECT name, id FROM tax_rates"))).all())
        refused = await asyncio.to_thread(petpos, database_url, "migrate")
        named = ", ".join(f"{json.dumps(name)} ({ids[name]})" for name in sorted(ids, key=ids.get))
        assert (refused.returncode, refused.stderr.strip().splitlines()[-1]) == (
            1,
            f"petpos migrate: these tax rates have one name in two forms of its letters: {named}. "
            "Rename all but one of each (updateTaxRate), then migrate again.",
        )
        assert "Traceback" not in refused.stderr
        async with db.engine.begin() as connection:
            rename = text("UPDATE tax_rates SET name = 'Reduced' WHERE name = :a")
            await connection.execute(rename, {"a": REDUIT_MARK})
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")
    async with db.engine.connect() as connection:
        for table, column in NAMES:
            names = (await connection.execute(text(f"SELECT DISTINCT {column} FROM {table}"))).scalars().all()
            assert names == [ZOE], (table, column)
        rates = (await connection.execute(text("SELECT name FROM tax_rates ORDER BY name"))).scalars().all()
    assert rates == ["Reduced", REDUIT]
