"""Demo data for the shop's sales, loaded after the catalogue by `petpos seed --demo` and on a first
`petpos serve`: the demo customer's earlier online order, so they hold loyalty points to redeem (the
documented checkouts redeem 150 and 200)."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.accounts.models import User
from app.domain.catalog.models import Product
from app.domain.sales.models import Sale
from app.domain.sales.recording import Payment, SaleItem, record_sale
from app.domain.uow import UnitOfWork

CUSTOMER_EMAIL = "customer@petpos.example"
# sku, quantity: 231.44 with the hutch's sales tax, which earns 231 points
EARLIER_ORDER = [("HAB-HUTCH", 1), ("DOG-KIBBLE-5KG", 2), ("HLT-FLEA-DOG", 1)]


async def seed(uow: UnitOfWork) -> None:
    """Idempotent: does nothing when the demo customer (or the catalogue) is missing or already bought."""
    customer = (await uow.session.scalars(select(User.id).where(User.email == CUSTOMER_EMAIL))).first()
    if customer is None or (await uow.session.scalars(select(Sale.id).limit(1))).first() is not None:
        return
    skus = dict(EARLIER_ORDER)
    products = (await uow.session.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus)))).all()
    if len(products) != len(skus):
        return
    ids = dict(products)
    # Through the sale-recording service, which locks the products and the customer: stock, its
    # movements and the points ledger hold as for any sale.
    await record_sale(
        uow,
        channel="ONLINE",
        items=[SaleItem("PRODUCT", ids[sku], quantity) for sku, quantity in EARLIER_ORDER],
        customer_id=customer,
        coupon_id=None,
        redeem_points=0,
        payment=Payment("ONLINE"),
        by=customer,
    )
