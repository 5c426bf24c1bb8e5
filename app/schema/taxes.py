"""GraphQL types of the contract: tax rates."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from app.schema.common import Payload
from app.schema.from_model import FromModel


@strawberry.type(
    description="A sales tax rate. Prices are tax-exclusive unless PETPOS_PRICES_INCLUDE_TAX is set."
)
class TaxRate(FromModel):
    id: strawberry.ID = strawberry.field(description="The rate's id.")
    name: str = strawberry.field(description='Its name on receipts and reports: "State sales tax".')
    rate: Decimal = strawberry.field(description='Percent, 0 to 100, at most 3 decimals: "8.250".')
    active: bool = strawberry.field(
        description="False: retired; items pointing at it sell untaxed, and it cannot be given to items."
    )


@strawberry.input(description="A new tax rate.")
class TaxRateInput:
    name: str = strawberry.field(description="1-100 characters; unique in any letter case.")
    rate: Decimal = strawberry.field(description='Percent, 0 to 100, at most 3 decimals: "8.25".')


@strawberry.type(description="The outcome of a change to a tax rate.")
class TaxRatePayload(Payload):
    tax_rate: TaxRate | None = strawberry.field(description="The rate as it now is.", default=None)
