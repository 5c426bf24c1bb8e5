"""Resolvers of the catalog: input -> domain call -> payload."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from app.domain.catalog import service as catalog
from app.domain.catalog import views
from app.domain.pagination import page_size
from app.resolvers.base import StaffOnly, ctx, forbidden, maybe_id, mutation, parse_id, run_mutation
from app.schema.catalog import (
    Product,
    ProductCategory,
    ProductConnection,
    ProductEdge,
    ProductInput,
    ProductPayload,
    ProductUpdateInput,
    Service,
    ServiceInput,
    ServicePayload,
    ServiceUpdateInput,
    StockMovement,
    StockMovementReason,
)
from app.schema.common import PageInfo


def _is_staff(info: Info) -> bool:
    user = ctx(info).user
    return user is not None and user.role in ("STAFF", "ADMIN")


async def products(
    info: Info,
    search: str | None = None,
    category: ProductCategory | None = None,
    include_inactive: bool | None = False,
    first: int | None = 20,
    after: str | None = None,
) -> ProductConnection:
    if include_inactive and not _is_staff(info):
        raise forbidden()
    async with ctx(info).db.read() as session:
        page = await views.products_page(
            session,
            search=search,
            category=category.value if category else None,
            include_inactive=bool(include_inactive),
            first=first,
            after=after,
        )
    return ProductConnection(
        edges=[ProductEdge(node=Product.from_model(p), cursor=c) for p, c in zip(page.rows, page.cursors)],
        page_info=PageInfo.of(page),
    )


def _visible(info: Info, product):
    return product if product is not None and (product.active or _is_staff(info)) else None


async def product(info: Info, id: strawberry.ID) -> Product | None:
    product_id = maybe_id(id)
    if product_id is None:
        return None
    async with ctx(info).db.read() as session:
        found = _visible(info, (await views.products_by_id(session, [product_id])).get(product_id))
    return Product.from_model(found) if found else None


async def product_by_sku(info: Info, sku: str) -> Product | None:
    """Barcode scans at the till."""
    async with ctx(info).db.read() as session:
        found = _visible(info, await views.product_by_sku(session, sku))
    return Product.from_model(found) if found else None


async def services(info: Info) -> list[Service]:
    async with ctx(info).db.read() as session:
        rows = await views.services(session, include_inactive=_is_staff(info))
    return [Service.from_model(s) for s in rows]


async def stock_movements(
    info: Info,
    product_id: strawberry.ID,
    first: int | None = 50,
    after: Annotated[
        str | None,
        strawberry.argument(
            description="The id of the last movement already read: the list goes on after it (newest first)."
        ),
    ] = None,
) -> list[StockMovement]:
    pid = maybe_id(product_id)
    size = page_size(first, default=50)
    if pid is None:
        return []
    async with ctx(info).db.read() as session:
        rows = await views.stock_movements(session, product_id=pid, first=size, after=after)
    return [StockMovement.from_model(m) for m in rows]


async def create_product(info: Info, input: ProductInput) -> ProductPayload:
    new = catalog.prepare_product(
        sku=input.sku,
        name=input.name,
        description=input.description,
        category=input.category.value,
        price=input.price,
        stock=input.stock,
    )
    created = await run_mutation(info, lambda uow: catalog.create_product(uow, new))
    return ProductPayload(product=Product.from_model(created), errors=[])


async def update_product(info: Info, id: strawberry.ID, input: ProductUpdateInput) -> ProductPayload:
    product_id = parse_id(id)
    changes = catalog.prepare_product_changes(
        name=input.name,
        description=input.description,
        category=input.category.value if input.category else None,
        price=input.price,
        active=input.active,
    )
    updated = await run_mutation(
        info, lambda uow: catalog.update_product(uow, product_id=product_id, changes=changes)
    )
    return ProductPayload(product=Product.from_model(updated), errors=[])


async def adjust_stock(
    info: Info, product_id: strawberry.ID, delta: int, reason: StockMovementReason, note: str | None = None
) -> ProductPayload:
    pid = parse_id(product_id, "productId")
    note = catalog.check_adjustment(delta=delta, reason=reason.value, note=note)
    updated = await run_mutation(
        info,
        lambda uow: catalog.adjust_stock(uow, product_id=pid, delta=delta, reason=reason.value, note=note),
    )
    return ProductPayload(product=Product.from_model(updated), errors=[])


async def create_service(info: Info, input: ServiceInput) -> ServicePayload:
    new = catalog.prepare_service(name=input.name, price=input.price, duration_minutes=input.duration_minutes)
    created = await run_mutation(info, lambda uow: catalog.create_service(uow, new))
    return ServicePayload(service=Service.from_model(created), errors=[])


async def update_service(info: Info, id: strawberry.ID, input: ServiceUpdateInput) -> ServicePayload:
    service_id = parse_id(id, "id", "Service")
    changes = catalog.prepare_service_changes(
        name=input.name, price=input.price, duration_minutes=input.duration_minutes, active=input.active
    )
    updated = await run_mutation(
        info, lambda uow: catalog.update_service(uow, service_id=service_id, changes=changes)
    )
    return ServicePayload(service=Service.from_model(updated), errors=[])


@strawberry.type
class CatalogQuery:
    products = strawberry.field(resolver=products)
    product = strawberry.field(resolver=product)
    product_by_sku = strawberry.field(resolver=product_by_sku)
    services = strawberry.field(resolver=services)
    stock_movements = strawberry.field(resolver=stock_movements, permission_classes=[StaffOnly])


@strawberry.type
class CatalogMutation:
    create_product = mutation(create_product, allow=StaffOnly)
    update_product = mutation(update_product, allow=StaffOnly)
    adjust_stock = mutation(adjust_stock, allow=StaffOnly)
    create_service = mutation(create_service, allow=StaffOnly)
    update_service = mutation(update_service, allow=StaffOnly)
