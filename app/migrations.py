"""Alembic driven from code: upgrade to head, and whether a database is at head."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import async_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


NOT_MIGRATED = "The database is not at the latest migration: run `petpos migrate` first."


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """alembic upgrade head (runs its own event loop: call it from sync code)."""
    command.upgrade(alembic_config(database_url), "head")


@lru_cache
def head_revisions() -> frozenset[str]:
    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def known_revisions() -> set[str]:
    """Every revision this code has a migration for."""
    return {script.revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


async def database_is_at_head(engine: AsyncEngine) -> bool:
    """Two reads of the revision table, no alembic context (/readyz asks it every few seconds)."""
    async with engine.connect() as connection:
        if not await connection.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL")):
            return False
        current = set((await connection.scalars(text("SELECT version_num FROM alembic_version"))).all())
    return current == head_revisions()
