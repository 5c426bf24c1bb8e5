"""Every table has a place in the global lock order or is declared never locked."""

from app.domain.locks import LOCK_ORDER, NEVER_LOCKED
from app.domain.models import Base


def test_every_table_is_in_the_lock_order_or_declared_never_locked():
    tables = set(Base.metadata.tables)
    assert not set(LOCK_ORDER) & NEVER_LOCKED
    assert tables - set(LOCK_ORDER) - NEVER_LOCKED == set(), "add the new table to LOCK_ORDER or NEVER_LOCKED"
    assert (set(LOCK_ORDER) | NEVER_LOCKED) - tables == set(), "a table listed in app/domain/locks.py is gone"
