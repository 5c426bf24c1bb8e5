"""Catalog services: products, services and stock. Input is checked before the unit
of work; every stock change writes a movement in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Uuid, column, insert, update, values
from sqlalchemy.orm.attributes import set_committed_value

from app.domain import fields, money
from app.domain.catalog.models import CATEGORIES, Product, Service, StockMovement
from app.domain.errors import DomainError, validation
from app.domain.fields import every, every_given
from app.domain.locks import lock_found
from app.domain.uow import UnitOfWork
from app.domain.writes import Changes, add_row

MAX_STOCK_DELTA = 1_000_000
# Units a product may hold after an adjustment: well inside the INTEGER column, with room for the
# units refunds put back.
MAX_STOCK = 1_000_000_000
MAX_DESCRIPTION = 5000
MAX_NOTE = 500  # of a stock adjustment


def normalise_sku(sku: str) -> str:
    return fields.code(sku, "sku", "SKU must be 1-64 characters without spaces or invisible characters")


def _name(name: str) -> str:
    return fields.name(name, max_length=200)


def _description(description: str | None) -> str:
    return fields.text(description, max_length=MAX_DESCRIPTION, field="description", what="A description")


def _category(category: str) -> str:
    if category not in CATEGORIES:
        raise validation("Unknown category", "category")
    return category


@dataclass(frozen=True)
class NewProduct:
    sku: str
    name: str
    description: str
    category: str
    price: Decimal
    stock: int
    tax_rate_id: uuid.UUID | None = None


def prepare_product(
    *,
    sku: str,
    name: str,
    description: str | None,
    category: str,
    price: Decimal,
    stock: int | None,
    tax_rate_id: uuid.UUID | None = None,
) -> NewProduct:
    """`tax_rate_id`: an active rate, checked by the caller (taxes.service.assignable)."""
    return NewProduct(
        **every(
            sku=lambda: normalise_sku(sku),
            name=lambda: _name(name),
            description=lambda: _description(description),
            category=lambda: _category(category),
            price=lambda: money.price(price),
            stock=lambda: _initial_stock(stock),
        ),
        tax_rate_id=tax_rate_id,
    )


def _initial_stock(stock: int | None) -> int:
    stock = stock or 0
    if not 0 <= stock <= MAX_STOCK_DELTA:
        raise validation(f"Stock must be between 0 and {MAX_STOCK_DELTA}", "stock")
    return stock


async def create_product(uow: UnitOfWork, new: NewProduct) -> Product:
    """A new product; its opening stock is an INITIAL movement. A taken SKU is CONFLICT."""
    uow.lock_free("a new product; the unique SKU decides a race")
    product = await add_row(uow, Product(id=uuid.uuid4(), **asdict(new), active=True))
    if new.stock:
        await add_row(uow, StockMovement(product_id=product.id, delta=new.stock, reason="INITIAL"))
    return product


@dataclass(frozen=True)
class ItemChanges(Changes):
    """What a product and a service both may change."""

    name: str | None = None
    price: Decimal | None = None
    active: bool | None = None
    tax_rate_id: uuid.UUID | None = None
    clear_tax_rate: bool = False

    def given(self) -> dict[str, Any]:
        given = super().given()
        if given.pop("clear_tax_rate"):
            given["tax_rate_id"] = None
        return given


@dataclass(frozen=True)
class ProductChanges(ItemChanges):
    description: str | None = None
    category: str | None = None


def prepare_product_changes(
    *,
    name: str | None,
    description: str | None,
    category: str | None,
    price: Decimal | None,
    active: bool | None,
    tax_rate_id: uuid.UUID | None = None,
    clear_tax_rate: bool = False,
) -> ProductChanges:
    """Only what is given changes; every bad field is reported at once."""
    return ProductChanges(
        **every_given(
            name=(_name, name),
            description=(_description, description),
            category=(_category, category),
            price=(money.price, price),
        ),
        active=active,
        tax_rate_id=tax_rate_id,
        clear_tax_rate=clear_tax_rate,
    )


async def update_product(uow: UnitOfWork, *, product_id: uuid.UUID, changes: ProductChanges) -> Product:
    return await changes.update(uow, Product, product_id, "Product")


def check_adjustment(*, delta: int, reason: str, note: str | None) -> str | None:
    """The note to keep, once every field holds (each one at fault is reported)."""

    def check_reason() -> None:
        if reason not in ("RESTOCK", "ADJUSTMENT"):
            raise validation(
                "Stock is adjusted with RESTOCK or ADJUSTMENT; sales and refunds move it themselves", "reason"
            )

    def check_delta() -> None:
        if delta == 0 or abs(delta) > MAX_STOCK_DELTA:
            raise validation(f"delta must be non-zero and at most {MAX_STOCK_DELTA} either way", "delta")
        if reason == "RESTOCK" and delta < 0:
            raise validation("A restock adds stock", "delta")

    checked = every(
        reason=check_reason,
        delta=check_delta,
        note=lambda: fields.text(note, max_length=MAX_NOTE, field="note", what="A note") or None,
    )
    kept: str | None = checked["note"]
    return kept


async def adjust_stock(
    uow: UnitOfWork, *, product_id: uuid.UUID, delta: int, reason: str, note: str | None
) -> Product:
    """Lock the product, then change stock and write the movement; never below zero."""
    product = await lock_found(uow, Product, product_id, "Product", "productId", key_share=True)  # stock only
    if product.stock + delta < 0:
        raise DomainError("INSUFFICIENT_STOCK", f"Only {product.stock} of {product.name} in stock", "delta")
    if product.stock + delta > MAX_STOCK:
        raise validation(f"A product holds at most {MAX_STOCK} units; {product.stock} in stock now", "delta")
    product.stock += delta
    uow.session.add(StockMovement(product_id=product.id, delta=delta, reason=reason, note=note))
    await uow.session.flush()
    return product


async def move_stock(
    uow: UnitOfWork,
    products: dict[uuid.UUID, Product],
    deltas: dict[uuid.UUID, int],
    *,
    reason: str,
    note: str | None = None,
) -> list[uuid.UUID]:
    """Change the stock of products the caller has locked, with their movements: one UPDATE and
    one INSERT however many products (a statement per product would be server work per line
    inside the locked window). The CHECK (stock >= 0) backs the caller's stock check. Returns
    the movements' ids."""
    if not deltas:
        return []
    ids = {product_id: uuid.uuid4() for product_id in deltas}
    rows = [
        {"id": ids[product_id], "product_id": product_id, "delta": delta, "reason": reason, "note": note}
        for product_id, delta in deltas.items()
    ]
    moved = values(column("id", Uuid), column("delta", Integer), name="moved").data(list(deltas.items()))
    await uow.session.execute(
        update(Product).where(Product.id == moved.c.id).values(stock=Product.stock + moved.c.delta),
        execution_options={"synchronize_session": False},
    )
    await uow.session.execute(insert(StockMovement).values(rows))
    for product_id, delta in deltas.items():  # the loaded rows as written, without reading them again
        set_committed_value(products[product_id], "stock", products[product_id].stock + delta)
    return list(ids.values())


@dataclass(frozen=True)
class NewService:
    name: str
    price: Decimal
    duration_minutes: int
    tax_rate_id: uuid.UUID | None = None


def prepare_service(
    *, name: str, price: Decimal, duration_minutes: int, tax_rate_id: uuid.UUID | None = None
) -> NewService:
    return NewService(
        **every(
            name=lambda: _name(name),
            price=lambda: money.price(price),
            duration_minutes=lambda: _duration(duration_minutes),
        ),
        tax_rate_id=tax_rate_id,
    )


@dataclass(frozen=True)
class ServiceChanges(ItemChanges):
    duration_minutes: int | None = None


def prepare_service_changes(
    *,
    name: str | None,
    price: Decimal | None,
    duration_minutes: int | None,
    active: bool | None,
    tax_rate_id: uuid.UUID | None = None,
    clear_tax_rate: bool = False,
) -> ServiceChanges:
    """Only what is given changes; every bad field is reported at once."""
    return ServiceChanges(
        **every_given(
            name=(_name, name), price=(money.price, price), duration_minutes=(_duration, duration_minutes)
        ),
        active=active,
        tax_rate_id=tax_rate_id,
        clear_tax_rate=clear_tax_rate,
    )


async def update_service(uow: UnitOfWork, *, service_id: uuid.UUID, changes: ServiceChanges) -> Service:
    """Lines already on orders and sales keep the name and price they were added with."""
    return await changes.update(uow, Service, service_id, "Service")


def _duration(minutes: int) -> int:
    if not 1 <= minutes <= 24 * 60:
        raise validation("Duration must be 1-1440 minutes", "durationMinutes")
    return minutes


async def create_service(uow: UnitOfWork, new: NewService) -> Service:
    uow.lock_free("a new service")
    return await add_row(uow, Service(**asdict(new), active=True))
