"""Resolvers of tax rates: input -> domain call -> payload."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.domain.accounts.models import STAFF_ROLES
from app.domain.errors import UNIQUE, Code
from app.domain.taxes import service, views
from app.resolvers.base import AdminOnly, mutation, parse_id, query, require_role, run_mutation
from app.resolvers.reads import read
from app.schema.taxes import TaxRate, TaxRateInput, TaxRatePayload


async def tax_rates(
    info: Info,
    include_inactive: Annotated[
        bool | None, strawberry.argument(description="Also retired rates (STAFF, ADMIN only).")
    ] = False,
) -> list[TaxRate]:
    """The sales tax rates, by name; active ones only unless staff ask for all."""
    if include_inactive:
        require_role(info, *STAFF_ROLES)
    rows = await read(info, views.tax_rates, include_inactive=bool(include_inactive))
    return [TaxRate.from_model(r) for r in rows]


async def create_tax_rate(
    info: Info, input: Annotated[TaxRateInput, strawberry.argument(description="The new rate.")]
) -> TaxRatePayload:
    """Add a sales tax rate; give it to products and services with their taxRateId."""
    new = service.prepare_tax_rate(name=input.name, rate=input.rate)
    created = await run_mutation(info, lambda uow: service.create_tax_rate(uow, new))
    return TaxRatePayload(tax_rate=TaxRate.from_model(created), errors=[])


async def update_tax_rate(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The rate to change.")],
    rate: Annotated[
        Decimal | None, strawberry.argument(description="Percent, 0 to 100, at most 3 decimals.")
    ] = None,
    name: Annotated[str | None, strawberry.argument(description="1-100 characters; unique.")] = None,
    active: Annotated[
        bool | None, strawberry.argument(description="False retires the rate: it is no longer charged.")
    ] = None,
) -> TaxRatePayload:
    """Changes apply to later sales only; sold lines keep their snapshot."""
    rate_id = parse_id(id, "id", "Tax rate")
    changes = service.prepare_tax_rate_changes(name=name, rate=rate, active=active)
    updated = await run_mutation(
        info, lambda uow: service.update_tax_rate(uow, rate_id=rate_id, changes=changes)
    )
    return TaxRatePayload(tax_rate=TaxRate.from_model(updated), errors=[])


@strawberry.type
class TaxesQuery:
    tax_rates = query(tax_rates)


@strawberry.type
class TaxesMutation:
    create_tax_rate = mutation(create_tax_rate, allow=AdminOnly, errors=UNIQUE)
    update_tax_rate = mutation(
        update_tax_rate,
        allow=AdminOnly,
        locks=("tax_rates",),
        errors=(Code.VALIDATION, Code.NOT_FOUND, Code.CONFLICT, Code.BUSY),
    )
