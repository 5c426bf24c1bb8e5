"""GraphQL types of the contract: catalog."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from app.schema.common import Money, PageInfo, UserError


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


@strawberry.input
class ProductInput:
    sku: str
    name: str
    description: str | None = ''
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


@strawberry.enum
class StockMovementReason(Enum):
    SALE = "SALE"
    REFUND = "REFUND"
    RESTOCK = "RESTOCK"
    ADJUSTMENT = "ADJUSTMENT"
    INITIAL = "INITIAL"


@strawberry.type
class StockMovement:
    id: strawberry.ID
    product: Product
    delta: int
    reason: StockMovementReason
    created_at: datetime
    note: str | None = None


@strawberry.type
class ProductPayload:
    errors: list[UserError]
    product: Product | None = None


@strawberry.type
class ServicePayload:
    errors: list[UserError]
    service: Service | None = None
