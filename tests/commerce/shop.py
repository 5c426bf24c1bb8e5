"""Setting up a shop for commerce tests: products, coupons and carts through the real services."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from app.db.engine import Database
from app.domain.accounts.models import User
from app.domain.catalog import service as catalog
from app.domain.catalog.models import Product, StockMovement
from app.domain.coupons import service as coupons
from app.domain.loyalty.models import LoyaltyEntry
from app.domain.uow import run_unit

ADD = (
    "mutation($p: ID!, $q: Int!) { addToCart(productId: $p, quantity: $q) { cart { items { "
    "quantity } total { amount } } errors { code field message } } }"
)
CHECKOUT = """mutation($k: String!, $r: Int) { checkout(input: {idempotencyKey: $k, redeemPoints: $r}) {
  replayed errors { code field message }
  sale { id number total { amount } subtotal { amount } couponDiscount { amount } pointsDiscount { amount }
         pointsEarned pointsRedeemed couponCode status
         lines { id name quantity unitPrice { amount } lineTotal { amount } } } } }"""
REFUND = """mutation($i: RefundInput!) { refundSale(input: $i) {
  replayed errors { code field message }
  refund { id amount { amount } pointsReversed pointsRestored
           lines { quantity amount { amount } saleLine { id } }
           sale { id status } } } }"""


class Shop:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._n = 0

    async def unit(self, work):
        return await run_unit(self.db.sessions, work, lock_timeout_ms=5000)

    async def product(
        self, *, stock: int = 10, price: str = "10.00", name: str | None = None, sku: str | None = None
    ):
        self._n += 1
        new = catalog.prepare_product(
            sku=sku or f"SKU-{self._n}",
            name=name or f"Product {self._n}",
            description="",
            category="FOOD",
            price=Decimal(price),
            stock=stock,
        )
        return await self.unit(lambda uow: catalog.create_product(uow, new))

    async def coupon(
        self,
        code: str = "SAVE10",
        *,
        kind: str = "PERCENT",
        value: str = "10",
        usage_limit=None,
        min_subtotal=None,
        starts_at=None,
        ends_at=None,
    ):
        new = coupons.prepare_coupon(
            code=code,
            kind=kind,
            value=Decimal(value),
            min_subtotal=min_subtotal,
            usage_limit=usage_limit,
            starts_at=starts_at,
            ends_at=ends_at,
        )
        return await self.unit(lambda uow: coupons.create_coupon(uow, new))

    async def stock(self, product_id) -> tuple[int, int]:
        """(stock, sum of its movements): equal at all times."""
        async with self.db.read() as s:
            stock = await s.scalar(select(Product.stock).where(Product.id == product_id))
            moved = await s.scalar(
                select(func.coalesce(func.sum(StockMovement.delta), 0)).where(
                    StockMovement.product_id == product_id
                )
            )
        return stock, moved

    async def points(self, user_id) -> tuple[int, int]:
        """(balance, sum of the ledger): equal at all times."""
        async with self.db.read() as s:
            balance = await s.scalar(select(User.loyalty_points).where(User.id == user_id))
            ledger = await s.scalar(
                select(func.coalesce(func.sum(LoyaltyEntry.delta), 0)).where(LoyaltyEntry.user_id == user_id)
            )
        return balance, ledger
