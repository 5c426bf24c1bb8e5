"""Resolvers of the catalog: input -> domain call -> payload."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from strawberry.types import Info

from app.domain.catalog import service as catalog
from app.domain.catalog import views
from app.domain.errors import Code
from app.domain.pagination import page_size
from app.domain.taxes import service as tax_service
from app.resolvers.base import StaffOnly, ctx, doc, forbidden, maybe_id, mutation, parse_id, run_mutation
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
from app.schema.common import After, First, PageInfo


async def _tax_rate_id(info: Info, raw: strawberry.ID | None, clear: bool | None = False) -> uuid.UUID | None:
    """The active tax rate an input names, checked before the unit of work."""
    if raw is None or clear:
        return None
    rate_id = parse_id(raw, "taxRateId", "Tax rate")
    async with ctx(info).db.read() as session:
        return await tax_service.assignable(session, rate_id)


def _is_staff(info: Info) -> bool:
    user = ctx(info).user
    return user is not None and user.role in ("STAFF", "ADMIN")


async def products(
    info: Info,
    search: Annotated[
        str | None,
        strawberry.argument(description="Text found anywhere in the name or SKU, any letter case."),
    ] = None,
    category: Annotated[
        ProductCategory | None, strawberry.argument(description="Only this category.")
    ] = None,
    include_inactive: Annotated[
        bool | None, strawberry.argument(description="Also retired products (STAFF, ADMIN only).")
    ] = False,
    first: First = 20,
    after: After = None,
) -> ProductConnection:
    """The catalogue's products, by name; active ones only unless staff ask for all."""
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


async def product(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The product's id.")]
) -> Product | None:
    """A product by id; null when there is none (or it is retired and the caller is not staff)."""
    product_id = maybe_id(id)
    if product_id is None:
        return None
    async with ctx(info).db.read() as session:
        found = _visible(info, (await views.products_by_id(session, [product_id])).get(product_id))
    return Product.from_model(found) if found else None


async def product_by_sku(
    info: Info, sku: Annotated[str, strawberry.argument(description="The SKU (barcode) as scanned.")]
) -> Product | None:
    """Barcode scans at the till."""
    async with ctx(info).db.read() as session:
        found = _visible(info, await views.product_by_sku(session, sku))
    return Product.from_model(found) if found else None


async def services(info: Info) -> list[Service]:
    """The services sold at the counter; staff also see retired ones."""
    async with ctx(info).db.read() as session:
        rows = await views.services(session, include_inactive=_is_staff(info))
    return [Service.from_model(s) for s in rows]


async def stock_movements(
    info: Info,
    product_id: Annotated[strawberry.ID, strawberry.argument(description="The product whose stock moved.")],
    first: Annotated[int | None, strawberry.argument(description="How many, newest first: 1-100.")] = 50,
    after: Annotated[
        str | None,
        strawberry.argument(
            description="The id of the last movement already read: the list goes on after it (newest first)."
        ),
    ] = None,
) -> list[StockMovement]:
    """A product's stock history, newest first (STAFF, ADMIN)."""
    pid = maybe_id(product_id)
    size = page_size(first, default=50)
    if pid is None:
        return []
    async with ctx(info).db.read() as session:
        rows = await views.stock_movements(session, product_id=pid, first=size, after=after)
    return [StockMovement.from_model(m) for m in rows]


async def create_product(
    info: Info, input: Annotated[ProductInput, strawberry.argument(description="The new product.")]
) -> ProductPayload:
    """Add a product to the catalogue; its opening stock is recorded as an INITIAL movement."""
    new = catalog.prepare_product(
        sku=input.sku,
        name=input.name,
        description=input.description,
        category=input.category.value,
        price=input.price,
        stock=input.stock,
        tax_rate_id=await _tax_rate_id(info, input.tax_rate_id),
    )
    created = await run_mutation(info, lambda uow: catalog.create_product(uow, new))
    return ProductPayload(product=Product.from_model(created), errors=[])


async def update_product(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The product to change.")],
    input: Annotated[
        ProductUpdateInput, strawberry.argument(description="The fields to change; omitted ones stay.")
    ],
) -> ProductPayload:
    """Change a product's name, description, category, price or active flag (not its stock)."""
    product_id = parse_id(id)
    changes = catalog.prepare_product_changes(
        name=input.name,
        description=input.description,
        category=input.category.value if input.category else None,
        price=input.price,
        active=input.active,
        tax_rate_id=await _tax_rate_id(info, input.tax_rate_id, input.clear_tax_rate),
        clear_tax_rate=bool(input.clear_tax_rate),
    )
    updated = await run_mutation(
        info, lambda uow: catalog.update_product(uow, product_id=product_id, changes=changes)
    )
    return ProductPayload(product=Product.from_model(updated), errors=[])


async def adjust_stock(
    info: Info,
    product_id: Annotated[strawberry.ID, strawberry.argument(description="The product whose stock changes.")],
    delta: Annotated[
        int, strawberry.argument(description="Units to add (positive) or take away (negative), 1-1000000.")
    ],
    reason: Annotated[
        StockMovementReason, strawberry.argument(description="RESTOCK (adds) or ADJUSTMENT (either way).")
    ],
    note: Annotated[str | None, strawberry.argument(description="Why, at most 500 characters.")] = None,
) -> ProductPayload:
    """Add or take away stock by hand; recorded as a stock movement. Stock never goes below 0."""
    pid = parse_id(product_id, "productId")
    note = catalog.check_adjustment(delta=delta, reason=reason.value, note=note)
    updated = await run_mutation(
        info,
        lambda uow: catalog.adjust_stock(uow, product_id=pid, delta=delta, reason=reason.value, note=note),
    )
    return ProductPayload(product=Product.from_model(updated), errors=[])


async def create_service(
    info: Info, input: Annotated[ServiceInput, strawberry.argument(description="The new service.")]
) -> ServicePayload:
    """Add a service to the counter's catalogue."""
    new = catalog.prepare_service(
        name=input.name,
        price=input.price,
        duration_minutes=input.duration_minutes,
        tax_rate_id=await _tax_rate_id(info, input.tax_rate_id),
    )
    created = await run_mutation(info, lambda uow: catalog.create_service(uow, new))
    return ServicePayload(service=Service.from_model(created), errors=[])


async def update_service(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The service to change.")],
    input: Annotated[
        ServiceUpdateInput, strawberry.argument(description="The fields to change; omitted ones stay.")
    ],
) -> ServicePayload:
    """Change a service's name, price, duration or active flag."""
    service_id = parse_id(id, "id", "Service")
    changes = catalog.prepare_service_changes(
        name=input.name,
        price=input.price,
        duration_minutes=input.duration_minutes,
        active=input.active,
        tax_rate_id=await _tax_rate_id(info, input.tax_rate_id, input.clear_tax_rate),
        clear_tax_rate=bool(input.clear_tax_rate),
    )
    updated = await run_mutation(
        info, lambda uow: catalog.update_service(uow, service_id=service_id, changes=changes)
    )
    return ServicePayload(service=Service.from_model(updated), errors=[])


@strawberry.type
class CatalogQuery:
    products = strawberry.field(resolver=products, description=doc(products))
    product = strawberry.field(resolver=product, description=doc(product))
    product_by_sku = strawberry.field(resolver=product_by_sku, description=doc(product_by_sku))
    services = strawberry.field(resolver=services, description=doc(services))
    stock_movements = strawberry.field(
        resolver=stock_movements, description=doc(stock_movements), permission_classes=[StaffOnly]
    )


@strawberry.type
class CatalogMutation:
    create_product = mutation(
        create_product, allow=StaffOnly, errors=(Code.VALIDATION, Code.NOT_FOUND, Code.CONFLICT, Code.BUSY)
    )
    update_product = mutation(
        update_product,
        allow=StaffOnly,
        locks=("products",),
        errors=(Code.VALIDATION, Code.NOT_FOUND, Code.BUSY),
    )
    adjust_stock = mutation(
        adjust_stock,
        allow=StaffOnly,
        locks=("products",),
        errors=(Code.VALIDATION, Code.NOT_FOUND, Code.INSUFFICIENT_STOCK, Code.BUSY),
    )
    create_service = mutation(
        create_service, allow=StaffOnly, errors=(Code.VALIDATION, Code.NOT_FOUND, Code.BUSY)
    )
    update_service = mutation(
        update_service,
        allow=StaffOnly,
        locks=("services",),
        errors=(Code.VALIDATION, Code.NOT_FOUND, Code.BUSY),
    )
