"""Which server a read goes to. Queries read DATABASE_READ_URL (a replica, which may lag); a
mutation, and everything its payload reads, reads the primary, so it sees its own writes."""

from __future__ import annotations

import copy

from app.db.engine import Database


def primary_only(db: Database) -> Database:
    """`db` with its reads on the primary too (the same engines and pools, nothing new opened)."""
    if db.read_sessions is db.sessions:
        return db
    view = copy.copy(db)
    view.read_engine, view.read_sessions = db.engine, db.sessions
    return view
