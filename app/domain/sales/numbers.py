"""Sale numbers: S-000001, S-000002, … with no gaps, per database.

A sequence loses the value of every transaction that draws one and then rolls back (a refused
idempotency key, a lost connection, a crash). So the number comes from one counter row that
stays locked until the unit ends: a unit that rolls back gives its number back.

Every sale queues on that row, so it is held as briefly as can be: the sale and its stock
movements are written without the number, and the unit's last step (UnitOfWork.last) draws it
and writes it on them in one statement, right before COMMIT. A deferred trigger refuses to
commit a sale that has no number (migration 0012).

The sale is stamped again as it draws its number (its created_at, the moment it was written till
then): a sale written first but delayed before its draw would otherwise read as older than sales
numbered before it, and list newest first out of number order.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Uuid, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm.attributes import set_committed_value

from app.domain.locks import timed
from app.domain.sales.models import Sale, SaleNumber
from app.domain.uow import UnitOfWork

# S-000001: six digits at least, more past S-999999. The counter row is written by the first sale.
_NUMBER = text(
    """
    WITH drawn AS (
        INSERT INTO sale_numbers (id, last) VALUES (1, 1)
        ON CONFLICT (id) DO UPDATE SET last = sale_numbers.last + 1
        RETURNING last
    ), numbered AS (
        UPDATE sales SET number = 'S-' || translate(format('%6s', drawn.last), ' ', '0'),
                         created_at = clock_timestamp()
        FROM drawn WHERE sales.id = :sale
        RETURNING sales.number, sales.created_at
    ), noted AS (
        UPDATE stock_movements SET note = numbered.number
        FROM numbered WHERE stock_movements.id = ANY(:movements)
    )
    SELECT number, created_at FROM numbered
    """
).bindparams(bindparam("sale", type_=Uuid), bindparam("movements", type_=ARRAY(Uuid)))


def number_last(uow: UnitOfWork, sale: Sale, movements: list[uuid.UUID]) -> None:
    """Give `sale` and its stock `movements` (their note) the next number, last in the unit."""

    async def draw() -> None:
        uow.note_lock(SaleNumber.__tablename__)
        with timed(SaleNumber.__tablename__):
            drawn = (await uow.session.execute(_NUMBER, {"sale": sale.id, "movements": movements})).one()
        set_committed_value(sale, "number", drawn.number)
        set_committed_value(sale, "created_at", drawn.created_at)

    uow.last(draw)
