"""Demo data for the shop, loaded by `petpos seed --demo` and on a first `petpos serve`:
products with stock (each an INITIAL movement), counter services, one coupon, and a sales tax
rate on toys, accessories, habitats and grooming (food and health products are untaxed)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from app.domain.catalog import service as catalog
from app.domain.catalog.models import Product
from app.domain.coupons import service as coupons
from app.domain.taxes import service as taxes
from app.domain.uow import UnitOfWork

# sku, name, category, price, stock, description
PRODUCTS = [
    (
        "DOG-KIBBLE-5KG",
        "Adult dog kibble 5 kg",
        "FOOD",
        "34.90",
        40,
        "Chicken and rice, for adult dogs of all sizes.",
    ),
    ("CAT-WET-12", "Wet cat food, 12 pouches", "FOOD", "12.50", 60, "Assorted fish in jelly."),
    ("TOY-ROPE", "Rope tug toy", "TOY", "7.99", 25, "Braided cotton, for medium and large dogs."),
    (
        "TOY-MOUSE-3",
        "Catnip mice, 3 pack",
        "TOY",
        "4.50",
        3,
        "Nearly sold out: good for trying the oversell guard.",
    ),
    (
        "ACC-LEASH-RED",
        "Red nylon leash 1.8 m",
        "ACCESSORY",
        "15.00",
        18,
        "Padded handle, reflective stitching.",
    ),
    ("HLT-FLEA-DOG", "Flea and tick drops (dog)", "HEALTH", "22.00", 30, "Three monthly doses."),
    ("HAB-HUTCH", "Wooden rabbit hutch", "HABITAT", "129.00", 4, "Two levels, removable tray."),
]
# name, price, minutes
SERVICES = [("Full groom", "45.00", 90), ("Nail trim", "12.00", 15), ("Bath and brush", "28.00", 45)]
SALES_TAX = ("Sales tax", Decimal("8.25"))
TAXED_CATEGORIES = ("TOY", "ACCESSORY", "HABITAT")
TAXED_SERVICES = ("Full groom", "Bath and brush")


async def seed(uow: UnitOfWork) -> None:
    """Idempotent: does nothing when the shop already has products."""
    uow.lock_free("demo data, loaded once into a new database")
    if (await uow.session.scalars(select(Product.id).limit(1))).first() is not None:
        return
    name, rate = SALES_TAX
    sales_tax = await taxes.create_tax_rate(uow, taxes.prepare_tax_rate(name=name, rate=rate))
    for sku, name, category, price, stock, description in PRODUCTS:
        await catalog.create_product(
            uow,
            catalog.prepare_product(
                sku=sku,
                name=name,
                description=description,
                category=category,
                price=Decimal(price),
                stock=stock,
                tax_rate_id=sales_tax.id if category in TAXED_CATEGORIES else None,
            ),
        )
    for name, price, minutes in SERVICES:
        await catalog.create_service(
            uow,
            catalog.prepare_service(
                name=name,
                price=Decimal(price),
                duration_minutes=minutes,
                tax_rate_id=sales_tax.id if name in TAXED_SERVICES else None,
            ),
        )
    welcome = coupons.prepare_coupon(
        code="WELCOME10",
        kind="PERCENT",
        value=Decimal("10"),
        min_subtotal=Decimal("20.00"),
        usage_limit=100,
        starts_at=None,
        ends_at=None,
    )
    await coupons.create_coupon(uow, welcome)
