"""The migrations, applied in order, build exactly the tables the models declare: every column
with its type, nullability and default, every constraint with its definition, every index. Both
sides are read back from PostgreSQL's catalog, so the comparison is of what PostgreSQL made of
them, CHECK texts and server defaults included (alembic's own comparison skips those)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.domain.models import Base
from app.migrations import upgrade
from app.settings import async_url
from tests.conftest import scratch_database

# Each thing the database holds, as one line in PostgreSQL's own words.
CATALOG = text(
    """
    SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
           || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = :schema AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'constraint ' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema
    UNION ALL
    SELECT 'index ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema
    """
)

# What only the migrations hold, on purpose.
ONLY_MIGRATED = {
    # Refunds from before cash shifts have none: the rule holds for every refund since (0009).
    "constraint refunds ck_refunds_cash_has_shift "
    "CHECK ((((method)::text <> 'CASH'::text) OR (shift_id IS NOT NULL))) NOT VALID",
    # A sale commits only with its number (0012; app/domain/sales/numbers.py).
    "constraint sales sales_numbered TRIGGER DEFERRABLE INITIALLY DEFERRED",
}
ONLY_MODELLED = {
    "constraint refunds ck_refunds_cash_has_shift "
    "CHECK ((((method)::text <> 'CASH'::text) OR (shift_id IS NOT NULL)))"
}


async def test_the_migrations_build_exactly_what_the_models_declare(db, database_url):
    # A database of their own: other tests drop and add constraints back, which PostgreSQL then
    # words differently.
    async with scratch_database(db, database_url) as url:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(async_url(url))
        try:
            migrated, modelled = await _catalogs(engine)
        finally:
            await engine.dispose()

    assert len(migrated) > 500
    assert migrated - modelled == ONLY_MIGRATED
    assert modelled - migrated == ONLY_MODELLED


async def _catalogs(engine: AsyncEngine) -> tuple[set[str], set[str]]:
    """What the migrations made (schema public) and what the models make (a schema of their own)."""
    async with engine.connect() as connection:
        await connection.execute(text("CREATE SCHEMA modelled"))
        await connection.run_sync(
            lambda sync: Base.metadata.create_all(
                sync.execution_options(schema_translate_map={None: "modelled"})
            )
        )

        async def catalog(schema: str) -> set[str]:
            rows = await connection.execute(CATALOG, {"schema": schema})
            return {row[0].replace(f"{schema}.", "") for row in rows if "alembic_version" not in row[0]}

        return await catalog("public"), await catalog("modelled")
