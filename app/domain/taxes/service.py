"""Tax rate services (ADMIN): create and change rates. Input is checked before the unit of work."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.domain import fields
from app.domain.errors import not_found, validation
from app.domain.fields import every, every_given
from app.domain.sales import tax
from app.domain.taxes.models import TaxRate
from app.domain.uow import UnitOfWork
from app.domain.writes import Changes, add_row


def _name(name: str) -> str:
    # Unique in any letter case, so nothing invisible inside: "VAT" and "VAT" + a zero-width space
    # would be two rates that look the same on every receipt.
    return fields.label(fields.name(name, max_length=100), "name", "A tax rate's name")


@dataclass(frozen=True)
class NewTaxRate:
    name: str
    rate: Decimal


def prepare_tax_rate(*, name: str, rate: Decimal) -> NewTaxRate:
    return NewTaxRate(**every(name=lambda: _name(name), rate=lambda: tax.rate(rate)))


async def create_tax_rate(uow: UnitOfWork, new: NewTaxRate) -> TaxRate:
    """A new active rate; a taken name is CONFLICT."""
    uow.lock_free("a new tax rate; the unique name decides a race")
    return await add_row(uow, TaxRate(id=uuid.uuid4(), **asdict(new), active=True))


@dataclass(frozen=True)
class TaxRateChanges(Changes):
    name: str | None = None
    rate: Decimal | None = None
    active: bool | None = None


def prepare_tax_rate_changes(
    *, name: str | None, rate: Decimal | None, active: bool | None
) -> TaxRateChanges:
    """Only what is given changes; every bad field is reported at once."""
    return TaxRateChanges(**every_given(name=(_name, name), rate=(tax.rate, rate)), active=active)


async def update_tax_rate(uow: UnitOfWork, *, rate_id: uuid.UUID, changes: TaxRateChanges) -> TaxRate:
    """Later sales only: sold lines keep the rate they were sold at."""
    return await changes.update(uow, TaxRate, rate_id, "Tax rate")


async def assignable(session: AsyncSession, rate_id: uuid.UUID, field: str = "taxRateId") -> uuid.UUID:
    """An active rate a product or service may point at (checked before the unit of work; the
    foreign key backs it should the rate go meanwhile)."""
    rate = await session.get(TaxRate, rate_id)
    if rate is None:
        raise not_found("Tax rate", field)
    if not rate.active:
        raise validation("This tax rate is retired", field)
    return rate_id
