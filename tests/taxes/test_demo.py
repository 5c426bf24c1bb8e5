"""The demo shop taxes some items: toys, accessories, habitats and grooming; food and health not."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.catalog import demo
from app.domain.catalog.models import Product, Service
from app.domain.taxes.models import TaxRate
from app.domain.uow import run_unit


async def test_the_demo_catalogue_has_a_tax_rate_on_some_items_and_seeds_once(db):
    await run_unit(db.sessions, demo.seed, lock_timeout_ms=3000)
    await run_unit(db.sessions, demo.seed, lock_timeout_ms=3000)
    async with db.read() as session:
        [rate] = list(await session.scalars(select(TaxRate)))
        products = list(await session.scalars(select(Product)))
        services = list(await session.scalars(select(Service)))
    assert (rate.name, str(rate.rate), rate.active) == ("Sales tax", "8.250", True)
    taxed = {p.category for p in products if p.tax_rate_id == rate.id}
    untaxed = {p.category for p in products if p.tax_rate_id is None}
    assert (taxed, untaxed) == ({"TOY", "ACCESSORY", "HABITAT"}, {"FOOD", "HEALTH"})
    assert sorted(s.name for s in services if s.tax_rate_id == rate.id) == ["Bath and brush", "Full groom"]
    assert [s.name for s in services if s.tax_rate_id is None] == ["Nail trim"]
