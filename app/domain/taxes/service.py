"""Tax rate services (ADMIN): create and change rates. Input is checked before the unit of work."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.changes import Changes
from app.domain.errors import not_found, validation
from app.domain.fields import every
from app.domain.locks import lock_found
from app.domain.sales import tax
from app.domain.taxes.models import TaxRate
from app.domain.uow import UnitOfWork


def _name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise validation("Name must be 1-100 characters", "name")
    return name


@dataclass(frozen=True)
class NewTaxRate:
    name: str
    rate: Decimal


def prepare_tax_rate(*, name: str, rate: Decimal) -> NewTaxRate:
    return NewTaxRate(**every(name=lambda: _name(name), rate=lambda: tax.rate(rate)))


async def create_tax_rate(uow: UnitOfWork, new: NewTaxRate) -> TaxRate:
    """A new active rate; a taken name is CONFLICT."""
    uow.lock_free("a new tax rate; the unique name decides a race")
    rate = TaxRate(id=uuid.uuid4(), **asdict(new), active=True)
    uow.session.add(rate)
    await uow.session.flush()
    return rate


@dataclass(frozen=True)
class TaxRateChanges(Changes):
    name: str | None = None
    rate: Decimal | None = None
    active: bool | None = None


def prepare_tax_rate_changes(
    *, name: str | None, rate: Decimal | None, active: bool | None
) -> TaxRateChanges:
    """Only what is given changes; every bad field is reported at once."""
    return TaxRateChanges(
        **every(
            name=lambda: _name(name) if name is not None else None,
            rate=lambda: tax.rate(rate) if rate is not None else None,
        ),
        active=active,
    )


async def update_tax_rate(uow: UnitOfWork, *, rate_id: uuid.UUID, changes: TaxRateChanges) -> TaxRate:
    """Later sales only: sold lines keep the rate they were sold at."""
    rate = await lock_found(uow, TaxRate, rate_id, "Tax rate", "id")
    changes.apply(rate)
    await uow.session.flush()
    return rate


async def assignable(session: AsyncSession, rate_id: uuid.UUID, field: str = "taxRateId") -> uuid.UUID:
    """An active rate a product or service may point at (checked before the unit of work; the
    foreign key backs it should the rate go meanwhile)."""
    rate = await session.get(TaxRate, rate_id)
    if rate is None:
        raise not_found("Tax rate", field)
    if not rate.active:
        raise validation("This tax rate is retired", field)
    return rate_id
