"""Sale numbers: S-000001, S-000002, … with no gaps, per database.

A sequence loses the value of every transaction that draws one and then rolls back (a refused
idempotency key, a lost connection, a crash). So the number comes from one counter row, updated in
the unit that records the sale, and that row stays locked until the unit ends: a unit that rolls
back gives its number back. Sales queue on the row only from the draw to their commit, because it
is drawn last, once every other lock is held and every check has passed (recording.py).
"""

from __future__ import annotations

import time

from sqlalchemy.dialects.postgresql import insert

from app import metrics
from app.domain.sales.models import SaleNumber
from app.domain.uow import UnitOfWork

# The row is written on the first sale (and again after the tables are emptied).
_DRAW = (
    insert(SaleNumber)
    .values(id=1, last=1)
    .on_conflict_do_update(index_elements=[SaleNumber.id], set_={"last": SaleNumber.last + 1})
    .returning(SaleNumber.last)
)


async def draw(uow: UnitOfWork) -> str:
    uow.note_lock(SaleNumber.__tablename__)
    started = time.perf_counter()
    last = (await uow.session.execute(_DRAW)).scalar_one()
    metrics.LOCK_WAIT.labels(table=SaleNumber.__tablename__).observe(time.perf_counter() - started)
    return f"S-{last:06d}"  # more digits past S-999999, never fewer
