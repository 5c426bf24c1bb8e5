"""Resolvers of catalog: auth check, input -> domain call -> payload."""
from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from app.resolvers.base import not_implemented
from app.schema.catalog import Product, ProductCategory, ProductConnection, ProductInput, ProductPayload, ProductUpdateInput, Service, ServiceInput, ServicePayload, StockMovement, StockMovementReason


async def products(info: Info, search: str | None = None, category: ProductCategory | None = None, include_inactive: bool | None = False, first: int | None = 20, after: str | None = None) -> ProductConnection:
    raise not_implemented("products")


async def product(info: Info, id: strawberry.ID) -> Product | None:
    raise not_implemented("product")


async def product_by_sku(info: Info, sku: str) -> Product | None:
    """Barcode scans at the till."""
    raise not_implemented("productBySku")


async def services(info: Info) -> list[Service]:
    raise not_implemented("services")


async def stock_movements(info: Info, product_id: strawberry.ID, first: int | None = 50) -> list[StockMovement]:
    raise not_implemented("stockMovements")


async def create_product(info: Info, input: ProductInput) -> ProductPayload:
    raise not_implemented("createProduct")


async def update_product(info: Info, id: strawberry.ID, input: ProductUpdateInput) -> ProductPayload:
    raise not_implemented("updateProduct")


async def adjust_stock(info: Info, product_id: strawberry.ID, delta: int, reason: StockMovementReason, note: str | None = None) -> ProductPayload:
    raise not_implemented("adjustStock")


async def create_service(info: Info, input: ServiceInput) -> ServicePayload:
    raise not_implemented("createService")


@strawberry.type
class CatalogQuery:
    products = strawberry.field(resolver=products)
    product = strawberry.field(resolver=product)
    product_by_sku = strawberry.field(resolver=product_by_sku)
    services = strawberry.field(resolver=services)
    stock_movements = strawberry.field(resolver=stock_movements)


@strawberry.type
class CatalogMutation:
    create_product = strawberry.mutation(resolver=create_product)
    update_product = strawberry.mutation(resolver=update_product)
    adjust_stock = strawberry.mutation(resolver=adjust_stock)
    create_service = strawberry.mutation(resolver=create_service)
