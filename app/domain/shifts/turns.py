"""A drawer's turn: the order in which sales, refunds, closes and movements use a shift's drawer.

Cash sales and refunds hold the shift row FOR SHARE, a close or a movement FOR UPDATE. Row locks
do not queue fairly: while a close waits for the sales in flight, a new sale's FOR SHARE joins
theirs, so on a busy register the close could wait past the lock timeout again and again. So each
first takes the drawer's turn, a transaction-level advisory lock on the shift: shared for a sale or
refund, exclusive for a close or a movement. PostgreSQL's lock manager queues a shared request
behind a waiting exclusive one, so a close waits only for the sales already in flight, and the
sales behind it find the shift CLOSED."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import Text, cast, func, select

from app.domain.shifts.models import CashShift, is_register

if TYPE_CHECKING:  # sales' models import this module, and the unit of work imports them
    from app.domain.uow import UnitOfWork

DRAWERS = 0x44524157  # the advisory lock space of drawers ("DRAW"); the shift's id hashed within it


async def open_shift_with_shared_turn(uow: UnitOfWork, register_name: str) -> uuid.UUID | None:
    """The register's OPEN shift's id, its shared turn taken in the same statement."""
    turn = func.pg_advisory_xact_lock_shared(DRAWERS, func.hashtext(cast(CashShift.id, Text)))
    found = await uow.session.execute(
        select(CashShift.id, turn).where(is_register(register_name), CashShift.status == "OPEN")
    )
    row = found.first()
    return None if row is None else row.id


async def take_whole_turn(uow: UnitOfWork, shift_id: uuid.UUID) -> None:
    """The shift's exclusive turn: once the sales and refunds ahead have committed."""
    await uow.session.execute(select(func.pg_advisory_xact_lock(DRAWERS, func.hashtext(str(shift_id)))))
