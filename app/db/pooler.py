"""Connection options for a database reached through a transaction pooler (PgBouncer with
pool_mode=transaction, DATABASE_TRANSACTION_POOLER=true).

Each transaction may run on a different server connection, so nothing may outlive one: asyncpg's
statement cache and SQLAlchemy's prepared-statement cache are off, and every statement SQLAlchemy
prepares gets a name of its own (asyncpg numbers them per client connection, so two clients would
otherwise meet "__asyncpg_stmt_1__ already exists" on a shared server connection). Session state
(LISTEN, session-level SET) never goes through the pooler: LISTEN uses DATABASE_LISTEN_URL and
the lock timeout is set per transaction."""

from __future__ import annotations

import uuid
from typing import Any

from app.settings import Settings


def statement_name() -> str:
    return f"__petpos_{uuid.uuid4().hex}__"


def connect_args(settings: Settings) -> dict[str, Any]:
    if not settings.database_transaction_pooler:
        return {}
    return {
        "statement_cache_size": 0,  # asyncpg's own cache
        "prepared_statement_cache_size": 0,  # SQLAlchemy's asyncpg dialect's cache
        "prepared_statement_name_func": statement_name,
    }
