"""GraphQL types of the contract: catalog."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from app.domain.catalog import views
from app.schema.common import Money, PageInfo, UserError
from app.schema.loaders import load


@strawberry.enum
class ProductCategory(Enum):
    FOOD = "FOOD"
    TOY = "TOY"
    ACCESSORY = "ACCESSORY"
    HEALTH = "HEALTH"
    HABITAT = "HABITAT"
    OTHER = "OTHER"


@strawberry.type
class Product:
    id: strawberry.ID
    sku: str
    name: str
    description: str
    category: ProductCategory
    price: Money
    stock: int
    active: bool

    @classmethod
    def from_model(cls, p) -> Product:
        return cls(
            id=strawberry.ID(str(p.id)),
            sku=p.sku,
            name=p.name,
            description=p.description,
            category=ProductCategory(p.category),
            price=Money.of(p.price),
            stock=p.stock,
            active=p.active,
        )


@strawberry.type
class ProductEdge:
    node: Product
    cursor: str


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    page_info: PageInfo


@strawberry.type
class Service:
    """Grooming, nail trims and other services sold at the counter: no stock."""

    id: strawberry.ID
    name: str
    price: Money
    duration_minutes: int
    active: bool

    @classmethod
    def from_model(cls, s) -> Service:
        return cls(
            id=strawberry.ID(str(s.id)),
            name=s.name,
            price=Money.of(s.price),
            duration_minutes=s.duration_minutes,
            active=s.active,
        )


@strawberry.input
class ProductInput:
    sku: str
    name: str
    description: str | None = ""
    category: ProductCategory
    price: Decimal
    stock: int | None = 0


@strawberry.input
class ProductUpdateInput:
    name: str | None = None
    description: str | None = None
    category: ProductCategory | None = None
    price: Decimal | None = None
    active: bool | None = None


@strawberry.input
class ServiceInput:
    name: str
    price: Decimal
    duration_minutes: int


@strawberry.input
class ServiceUpdateInput:
    name: str | None = None
    price: Decimal | None = None
    duration_minutes: int | None = None
    active: bool | None = strawberry.field(
        default=None, description="False retires the service: it can no longer be added to an order."
    )


@strawberry.enum
class StockMovementReason(Enum):
    SALE = "SALE"
    REFUND = "REFUND"
    RESTOCK = "RESTOCK"
    ADJUSTMENT = "ADJUSTMENT"
    INITIAL = "INITIAL"


async def _movement_product(root: StockMovement, info: strawberry.Info) -> Product:
    return Product.from_model(await load(info, views.products_by_id, root.product_id))


@strawberry.type
class StockMovement:
    id: strawberry.ID
    product: Product = strawberry.field(resolver=_movement_product)
    delta: int
    reason: StockMovementReason
    created_at: datetime
    note: str | None = None
    product_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, m) -> StockMovement:
        return cls(
            id=strawberry.ID(str(m.id)),
            delta=m.delta,
            reason=StockMovementReason(m.reason),
            created_at=m.created_at,
            note=m.note,
            product_id=m.product_id,
        )


@strawberry.type
class ProductPayload:
    errors: list[UserError]
    product: Product | None = None


@strawberry.type
class ServicePayload:
    errors: list[UserError]
    service: Service | None = None
