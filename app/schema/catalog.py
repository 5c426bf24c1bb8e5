"""GraphQL types of the contract: catalog."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import strawberry

from app.domain.catalog import views
from app.domain.taxes import views as tax_views
from app.schema.common import Money, Payload
from app.schema.described import DescribedEnum, described_enum
from app.schema.from_model import FromModel
from app.schema.loaders import load, load_shown
from app.schema.pages import Connection, connection_of
from app.schema.taxes import TaxRate


async def _tax_rate(root: Product | Service, info: strawberry.Info) -> TaxRate | None:
    return await load_shown(info, tax_views.rates_by_id, root.tax_rate_id, TaxRate.from_model)


TAXED_AT = "The rate it is taxed at. Null: not taxed; nor is it while its rate is retired (active: false)."


@described_enum("The shelf a product sits on.")
class ProductCategory(DescribedEnum):
    FOOD = "FOOD", "Food and treats."
    TOY = "TOY", "Toys."
    ACCESSORY = "ACCESSORY", "Collars, leads, bowls, beds and the like."
    HEALTH = "HEALTH", "Care and health products."
    HABITAT = "HABITAT", "Cages, tanks, hutches and their fittings."
    OTHER = "OTHER", "Anything else."


@strawberry.type(description="Goods on the shelf, sold online and at the counter; tracked in stock.")
class Product(FromModel):
    id: strawberry.ID = strawberry.field(description="The product's id.")
    sku: str = strawberry.field(description="Stock-keeping unit (the barcode), upper case; unique.")
    name: str = strawberry.field(description="The name on the shelf and the receipt.")
    description: str = strawberry.field(description="Free text; may be empty.")
    category: ProductCategory = strawberry.field(description="The shelf it sits on.")
    price: Money = strawberry.field(description="Unit price.")
    stock: int = strawberry.field(description="Units in stock now; never below 0.")
    active: bool = strawberry.field(description="False: retired, no longer for sale (only staff see it).")
    tax_rate: TaxRate | None = strawberry.field(resolver=_tax_rate, description=TAXED_AT)
    tax_rate_id: strawberry.Private[uuid.UUID | None] = None


@connection_of(Product, "product", "products", order="by name")
class ProductConnection(Connection): ...


@strawberry.type(description="Grooming, nail trims and other services sold at the counter: no stock.")
class Service(FromModel):
    id: strawberry.ID = strawberry.field(description="The service's id.")
    name: str = strawberry.field(description="The name on the menu and the receipt.")
    price: Money = strawberry.field(description="Price of one.")
    duration_minutes: int = strawberry.field(description="How long it takes, 1-1440 minutes.")
    active: bool = strawberry.field(description="False: retired, no longer offered (only staff see it).")
    tax_rate: TaxRate | None = strawberry.field(resolver=_tax_rate, description=TAXED_AT)
    tax_rate_id: strawberry.Private[uuid.UUID | None] = None


@strawberry.input(description="A new product.")
class ProductInput:
    sku: str = strawberry.field(description="1-64 characters without spaces; stored upper case; unique.")
    name: str = strawberry.field(description="1-200 characters.")
    description: str | None = strawberry.field(description="Free text, up to 5000 characters.", default="")
    category: ProductCategory = strawberry.field(description="The shelf it sits on.")
    price: Decimal = strawberry.field(description='Unit price, at most 2 decimals: "12.50".')
    stock: int | None = strawberry.field(description="Opening stock, 0-1000000.", default=0)
    tax_rate_id: strawberry.ID | None = strawberry.field(
        description="An active tax rate; omitted: not taxed.", default=None
    )


@strawberry.input(description="Changes to a product; omitted fields stay as they are.")
class ProductUpdateInput:
    name: str | None = strawberry.field(description="1-200 characters.", default=None)
    description: str | None = strawberry.field(description="Free text, up to 5000 characters.", default=None)
    category: ProductCategory | None = strawberry.field(description="The shelf it sits on.", default=None)
    price: Decimal | None = strawberry.field(
        description="New unit price; sales already made keep theirs.", default=None
    )
    active: bool | None = strawberry.field(
        description="False retires the product: no longer for sale; true brings it back.", default=None
    )
    tax_rate_id: strawberry.ID | None = strawberry.field(
        description="Another active tax rate; sales already made keep theirs.", default=None
    )
    clear_tax_rate: bool | None = strawberry.field(
        description="True removes the tax rate (taxRateId is then ignored).", default=False
    )


@strawberry.input(description="A new service.")
class ServiceInput:
    name: str = strawberry.field(description="1-200 characters.")
    price: Decimal = strawberry.field(description='Price of one, at most 2 decimals: "25.00".')
    duration_minutes: int = strawberry.field(description="How long it takes, 1-1440 minutes.")
    tax_rate_id: strawberry.ID | None = strawberry.field(
        description="An active tax rate; omitted: not taxed.", default=None
    )


@strawberry.input(description="Changes to a service; omitted fields stay as they are.")
class ServiceUpdateInput:
    name: str | None = strawberry.field(description="1-200 characters.", default=None)
    price: Decimal | None = strawberry.field(
        description="New price; sales already made keep theirs.", default=None
    )
    duration_minutes: int | None = strawberry.field(description="1-1440 minutes.", default=None)
    active: bool | None = strawberry.field(
        default=None, description="False retires the service: it can no longer be added to an order."
    )
    tax_rate_id: strawberry.ID | None = strawberry.field(
        description="Another active tax rate; sales already made keep theirs.", default=None
    )
    clear_tax_rate: bool | None = strawberry.field(
        description="True removes the tax rate (taxRateId is then ignored).", default=False
    )


@described_enum("Why stock moved.")
class StockMovementReason(DescribedEnum):
    SALE = "SALE", "Sold, online or at the counter."
    REFUND = "REFUND", "Came back with a refund."
    RESTOCK = "RESTOCK", "Delivered: stock added by staff."
    ADJUSTMENT = "ADJUSTMENT", "Corrected by staff (a count, damage, loss)."
    INITIAL = "INITIAL", "The opening stock of a new product."


async def _movement_product(root: StockMovement, info: strawberry.Info) -> Product:
    return Product.from_model(await load(info, views.products_by_id, root.product_id))


@strawberry.type(description="One change to a product's stock.")
class StockMovement(FromModel):
    id: strawberry.ID = strawberry.field(description="The movement's id.")
    product: Product = strawberry.field(resolver=_movement_product, description="The product that moved.")
    delta: int = strawberry.field(description="Units added (positive) or taken away (negative).")
    reason: StockMovementReason = strawberry.field(description="Why it moved.")
    created_at: datetime = strawberry.field(description="When it moved.")
    note: str | None = strawberry.field(description="Staff's note on an adjustment.", default=None)
    product_id: strawberry.Private[uuid.UUID]


@strawberry.type(description="The outcome of a change to a product.")
class ProductPayload(Payload):
    product: Product | None = strawberry.field(description="The product as it now is.", default=None)


@strawberry.type(description="The outcome of a change to a service.")
class ServicePayload(Payload):
    service: Service | None = strawberry.field(description="The service as it now is.", default=None)
