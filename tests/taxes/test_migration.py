"""Migration 0018 makes tax-rate names unique in any letter case and spacing, writes older names as
names are now kept, and stops on rates an earlier petpos let hold one name in two letter cases or
spacings: which one to rename is for an admin, not for the migration."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import text

from app.migrations import alembic_config
from tests.e2e.test_cli import petpos
from tests.taxes.helpers import tax_rate


async def test_migration_0018_stops_while_two_rates_share_a_name_in_two_letter_cases(database_url, db):
    await tax_rate(db, "5", "City tax")
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0017_register_any_case")
    try:
        async with db.engine.begin() as connection:  # as the old constraint allowed
            await connection.execute(
                text(
                    "INSERT INTO tax_rates (id, name, rate) VALUES "
                    "(gen_random_uuid(), 'CITY  TAX', 6), "
                    "(gen_random_uuid(), ' State' || chr(9) || 'tax ', 4)"
                )
            )
            ids = dict((await connection.execute(text("SELECT name, id FROM tax_rates"))).all())
        refused = await asyncio.to_thread(petpos, database_url, "migrate")
        assert (refused.returncode, refused.stderr.strip().splitlines()[-1]) == (
            1,
            "petpos migrate: these tax rates have one name in two letter cases or spacings: "
            f'"CITY  TAX" ({ids["CITY  TAX"]}), "City tax" ({ids["City tax"]}). '
            "Rename all but one of each (updateTaxRate), then migrate again.",
        )
        assert "Traceback" not in refused.stderr
        async with db.engine.begin() as connection:
            rename = "UPDATE tax_rates SET name = 'County  tax' WHERE name = 'CITY  TAX'"
            await connection.execute(text(rename))
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")
    async with db.engine.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM tax_rates ORDER BY name"))).scalars().all()
    assert names == ["City tax", "County tax", "State tax"]
