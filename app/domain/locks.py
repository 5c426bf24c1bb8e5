"""The one lock helper, and the global lock order every mutation follows.

Transactions that lock rows in the same global order cannot deadlock on each
other. The order (docs/architecture.md, "The global lock order"):

    sale_orders / carts -> sales -> cash_shifts -> products / services / tax_rates -> coupons
    -> pets -> adoption_requests -> users -> sale_numbers -> password_reset_tokens
    -> sign_in_failures -> outbox_messages

sign_in_failures is written by sign-in's and register's own short units, and by a password reset's
unit last, after its users and password_reset_tokens rows (it forgives the account's failures);
outbox_messages is claimed only by the mail sender's units, never together with another table.
They stand last, so each of those stays in order. `petpos prune` deletes rows of one table per unit,
skipping locked ones (app/prune.py), so it waits for no lock and needs no place here.

Several rows of one table are locked in one statement, ordered by id. The unit
of work checks at run time that a mutation never goes back up this list: a
service that tries is a programming error, caught by the tests.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Row, Select, Table, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from app import metrics
from app.domain.errors import not_found
from app.domain.statements import run_built

LOCK_ORDER: dict[str, int] = {
    "sale_orders": 0,
    "carts": 0,
    "sales": 1,
    # FOR SHARE by cash checkouts and refunds (many at once), FOR UPDATE by closeShift and
    # recordCashMovement, which so wait for the sales in flight and hold off new ones.
    "cash_shifts": 2,
    "products": 3,
    "services": 3,  # locked alone, by updateService; never with products
    "tax_rates": 3,  # locked alone, by updateTaxRate
    "coupons": 4,
    "pets": 5,
    "adoption_requests": 6,
    "users": 7,
    # The sale number counter, drawn by the sale's INSERT-or-UPDATE after every other lock of the
    # unit, so sales queue on it only for their last statements (app/domain/sales/numbers.py).
    "sale_numbers": 8,
    "password_reset_tokens": 9,  # after their user: a new code is written under the user's lock
    "sign_in_failures": 10,
    # Claimed alone by the mail sender (FOR UPDATE SKIP LOCKED), never with another table's rows.
    "outbox_messages": 11,
}

# Tables no unit of work ever row-locks: their rows are written only under the lock of the row
# that coordinates them (a cart's items under the cart, a sale's lines under the sale, …) or are
# append-only records (movements, ledger); a unique constraint decides the rest.
NEVER_LOCKED: frozenset[str] = frozenset(
    {
        "cart_items",
        "cash_movements",
        "idempotency_keys",
        "loyalty_ledger",
        "refund_lines",
        "refunds",
        "sale_lines",
        "sale_tenders",
        "sale_order_items",
        "stock_movements",
    }
)

M = TypeVar("M")


class Locking(Protocol):
    """What the lock helper needs of a unit of work (app/domain/uow.py): its session, and the
    ledger that checks each lock against LOCK_ORDER."""

    session: AsyncSession

    def note_lock(self, table: str) -> None: ...


class LockOrderViolation(AssertionError):
    """A mutation locked a table out of the global order (a bug, not a user error)."""


@contextmanager
def timed(table: str) -> Iterator[None]:
    """Time a lock statement into the lock-wait histogram, a wait that ends in a lock timeout too
    (the longest ones)."""
    started = time.perf_counter()
    try:
        yield
    finally:
        metrics.LOCK_WAIT.labels(table=table).observe(time.perf_counter() - started)


async def lock_rows(
    uow: Locking, model: type[M], ids: Iterable[uuid.UUID], *, share: bool = False, key_share: bool = False
) -> list[M]:
    """Lock rows of one table in a single statement ordered by id and return them fresh.

    Rows that do not exist are simply absent from the result; callers decide
    whether that is NOT_FOUND. `share`: FOR SHARE instead of FOR UPDATE, so several units
    may hold the rows at once while each keeps out any unit that wants them FOR UPDATE.
    `key_share`: FOR NO KEY UPDATE instead of FOR UPDATE, for a holder that neither deletes the rows
    nor changes a key column (docs/performance.md, "Lock modes").
    """
    wanted = sorted(set(ids))
    if not wanted:
        return []
    table = model.__tablename__  # type: ignore[attr-defined]
    uow.note_lock(table)
    stmt = (
        select(model)
        .where(model.id.in_(wanted))  # type: ignore[attr-defined]
        .order_by(model.id)  # type: ignore[attr-defined]
        .with_for_update(read=share, key_share=key_share)
        .execution_options(populate_existing=True)
    )
    with timed(table):
        return list((await uow.session.scalars(stmt)).all())


_VALUE_LOCKS: dict[tuple[Table, tuple[ColumnElement[Any], ...]], Select[Any]] = {}


async def lock_values(
    uow: Locking, table: Table, id: uuid.UUID, *columns: ColumnElement[Any]
) -> Row[Any] | None:
    """Lock one row FOR NO KEY UPDATE and return only `columns` of it, without an ORM object: the
    hot path's lock (a line add). NO KEY UPDATE because the holder never changes the row's key:
    other transactions' foreign-key checks on it (FOR KEY SHARE) go on while it is held."""
    uow.note_lock(table.name)
    statement = _VALUE_LOCKS.get((table, columns))
    if statement is None:
        statement = select(*columns).where(table.c.id == bindparam("id")).with_for_update(key_share=True)
        _VALUE_LOCKS[(table, columns)] = statement
    with timed(table.name):
        return (await run_built(uow.session, statement, id=id)).one_or_none()


_FREE_LOCKS: dict[tuple[Table, tuple[ColumnElement[Any], ...]], Select[Any]] = {}


async def lock_free_values(
    uow: Locking, table: Table, ids: Sequence[uuid.UUID], *columns: ColumnElement[Any]
) -> list[Row[Any]]:
    """Lock those of the rows no other transaction holds, in one statement ordered by id, FOR NO
    KEY UPDATE SKIP LOCKED, and return only `columns` of them: a row held elsewhere (or not there)
    is left out at once instead of waited for. For work taken together over many rows, so that one
    busy row never holds up the others."""
    uow.note_lock(table.name)
    statement = _FREE_LOCKS.get((table, columns))
    if statement is None:
        statement = (
            select(*columns)
            .where(table.c.id == any_(bindparam("ids", type_=ARRAY(table.c.id.type))))
            .order_by(table.c.id)
            .with_for_update(key_share=True, skip_locked=True)
        )
        _FREE_LOCKS[(table, columns)] = statement
    return list((await run_built(uow.session, statement, ids=sorted(set(ids)))).all())


async def lock_found(
    uow: Locking,
    model: type[M],
    id: uuid.UUID,
    what: str,
    field: str | None = None,
    *,
    key_share: bool = False,
) -> M:
    """The row locked, or NOT_FOUND naming `what` (and the input `field` that named it)."""
    row = await lock_row(uow, model, id, key_share=key_share)
    if row is None:
        raise not_found(what, field)
    return row


async def lock_row(
    uow: Locking, model: type[M], id: uuid.UUID, *, share: bool = False, key_share: bool = False
) -> M | None:
    rows = await lock_rows(uow, model, [id], share=share, key_share=key_share)
    return rows[0] if rows else None


def by_id(rows: Sequence[M]) -> dict[uuid.UUID, M]:
    return {row.id: row for row in rows}  # type: ignore[attr-defined]
