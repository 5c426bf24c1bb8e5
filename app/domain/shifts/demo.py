"""Demo data: the `front` register's drawer open with a float, so cash sales work at once."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.domain.accounts.models import User
from app.domain.shifts import service
from app.domain.shifts.models import CashShift
from app.domain.uow import UnitOfWork

REGISTER = "front"
OPENING_FLOAT = Decimal("150.00")


async def seed(uow: UnitOfWork) -> None:
    """Idempotent: does nothing once any shift exists, or while there is no staff account."""
    uow.lock_free("demo data, loaded once into a new database")
    if (await uow.session.scalars(select(CashShift.id).limit(1))).first() is not None:
        return
    staff = (
        await uow.session.scalars(
            select(User.id)
            .where(User.role.in_(("STAFF", "ADMIN")))
            .order_by(User.role.desc(), User.created_at)
        )
    ).first()
    if staff is None:
        return
    await service.open_shift(
        uow, service.prepare_open(register_name=REGISTER, opening_float=OPENING_FLOAT), by=staff
    )
