"""Tax rates and taxed items for tests, made through the real services."""

from __future__ import annotations

from decimal import Decimal

from app.db.engine import Database
from app.domain.catalog import service as catalog
from app.domain.taxes import service as taxes
from app.domain.uow import run_unit


async def unit(db: Database, work):
    return await run_unit(db.sessions, work, lock_timeout_ms=5000)


async def tax_rate(db: Database, rate: str, name: str | None = None):
    new = taxes.prepare_tax_rate(name=name or f"Tax {rate}%", rate=Decimal(rate))
    return await unit(db, lambda uow: taxes.create_tax_rate(uow, new))


async def set_rate(db: Database, rate_id, *, rate: str | None = None, active: bool | None = None):
    changes = taxes.prepare_tax_rate_changes(
        name=None, rate=Decimal(rate) if rate is not None else None, active=active
    )
    return await unit(db, lambda uow: taxes.update_tax_rate(uow, rate_id=rate_id, changes=changes))


async def taxed_product(db: Database, sku: str, price: str, rate=None, stock: int = 100):
    new = catalog.prepare_product(
        sku=sku,
        name=sku.title(),
        description="",
        category="FOOD",
        price=Decimal(price),
        stock=stock,
        tax_rate_id=rate.id if rate is not None else None,
    )
    return await unit(db, lambda uow: catalog.create_product(uow, new))


async def taxed_service(db: Database, name: str, price: str, rate=None):
    new = catalog.prepare_service(
        name=name, price=Decimal(price), duration_minutes=30, tax_rate_id=rate.id if rate else None
    )
    return await unit(db, lambda uow: catalog.create_service(uow, new))
