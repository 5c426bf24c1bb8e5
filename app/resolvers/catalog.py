"""Resolvers of the catalog: input -> domain call -> payload."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.types import Info

from app.domain.accounts.models import STAFF_ROLES, is_staff
from app.domain.catalog import service as catalog
from app.domain.catalog import views
from app.domain.errors import NAMES_A_ROW, Code, DomainError
from app.domain.fields import Checks
from app.domain.pagination import page_size
from app.domain.taxes import service as tax_service
from app.resolvers.base import StaffOnly, ctx, maybe_id, mutation, parse_id, query, require_role, run_mutation
from app.resolvers.inputs import Changes, plain, values
from app.resolvers.reads import lookup, read
from app.schema.catalog import (
    Product,
    ProductCategory,
    ProductConnection,
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
from app.schema.common import After, First

T = TypeVar("T")


async def _prepared(info: Info, input: Any, prepare: Callable[..., T]) -> T:
    """A product's or service's input through its prepare step. The active tax rate it names is
    checked here, before the unit of work, unless an update clears the rate instead; a bad one is
    reported with every other bad field, not instead of them."""
    fields = values(input)
    if "clear_tax_rate" in fields:
        fields["clear_tax_rate"] = bool(fields["clear_tax_rate"])
    raw = fields.pop("tax_rate_id")  # empty (a form's empty choice): as if left out
    bad_rate = None
    if raw and not fields.get("clear_tax_rate"):
        try:
            rate_id = parse_id(raw, "taxRateId", "Tax rate")
            fields["tax_rate_id"] = await read(info, tax_service.assignable, rate_id)
        except DomainError as error:
            bad_rate = error
    check = Checks()
    prepared = check(lambda: prepare(**fields))
    if bad_rate is not None:  # last, as in the input
        check.fail(bad_rate)
    check.done()
    return prepared


async def products(
    info: Info,
    search: Annotated[
        str | None,
        strawberry.argument(
            description="Words, each found somewhere in the name or SKU, any letter case; at most 100 "
            "characters."
        ),
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
    if include_inactive:
        require_role(info, *STAFF_ROLES)
    page = await read(
        info,
        views.products_page,
        search=search,
        category=plain(category),
        include_inactive=bool(include_inactive),
        first=first,
        after=after,
    )
    return ProductConnection.of(page)


def _visible(info: Info, product) -> bool:
    """A retired product is shown to staff only."""
    return product.active or is_staff(ctx(info).user)


product = lookup(
    Product,
    views.products_by_id,
    "The product's id.",
    doc="A product by id; null when there is none (or it is retired and the caller is not staff).",
    visible=_visible,
)


async def product_by_sku(
    info: Info, sku: Annotated[str, strawberry.argument(description="The SKU (barcode) as scanned.")]
) -> Product | None:
    """Barcode scans at the till."""
    found = await read(info, views.product_by_sku, sku)
    return Product.from_model(found) if found and _visible(info, found) else None


async def services(info: Info) -> list[Service]:
    """The services sold at the counter; staff also see retired ones."""
    rows = await read(info, views.services, include_inactive=is_staff(ctx(info).user))
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
    rows = await read(info, views.stock_movements, product_id=pid, first=size, after=after)
    return [StockMovement.from_model(m) for m in rows]


async def create_product(
    info: Info, input: Annotated[ProductInput, strawberry.argument(description="The new product.")]
) -> ProductPayload:
    """Add a product to the catalogue; its opening stock is recorded as an INITIAL movement."""
    new = await _prepared(info, input, catalog.prepare_product)
    created = await run_mutation(info, lambda uow: catalog.create_product(uow, new))
    return ProductPayload(product=Product.from_model(created), errors=[])


async def update_product(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The product to change.")],
    input: Changes[ProductUpdateInput],
) -> ProductPayload:
    """Change a product's name, description, category, price or active flag (not its stock)."""
    product_id = parse_id(id, "id", "Product")
    changes = await _prepared(info, input, catalog.prepare_product_changes)
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
    pid = parse_id(product_id, "productId", "Product")
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
    new = await _prepared(info, input, catalog.prepare_service)
    created = await run_mutation(info, lambda uow: catalog.create_service(uow, new))
    return ServicePayload(service=Service.from_model(created), errors=[])


async def update_service(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The service to change.")],
    input: Changes[ServiceUpdateInput],
) -> ServicePayload:
    """Change a service's name, price, duration or active flag."""
    service_id = parse_id(id, "id", "Service")
    changes = await _prepared(info, input, catalog.prepare_service_changes)
    updated = await run_mutation(
        info, lambda uow: catalog.update_service(uow, service_id=service_id, changes=changes)
    )
    return ServicePayload(service=Service.from_model(updated), errors=[])


@strawberry.type
class CatalogQuery:
    products = query(products)
    product = query(product)
    product_by_sku = query(product_by_sku)
    services = query(services)
    stock_movements = query(stock_movements, allow=StaffOnly)


@strawberry.type
class CatalogMutation:
    create_product = mutation(
        create_product, allow=StaffOnly, errors=(Code.VALIDATION, Code.NOT_FOUND, Code.CONFLICT, Code.BUSY)
    )
    update_product = mutation(update_product, allow=StaffOnly, locks=("products",), errors=NAMES_A_ROW)
    adjust_stock = mutation(
        adjust_stock,
        allow=StaffOnly,
        locks=("products",),
        errors=(Code.VALIDATION, Code.NOT_FOUND, Code.INSUFFICIENT_STOCK, Code.BUSY),
    )
    create_service = mutation(create_service, allow=StaffOnly, errors=NAMES_A_ROW)
    update_service = mutation(update_service, allow=StaffOnly, locks=("services",), errors=NAMES_A_ROW)
