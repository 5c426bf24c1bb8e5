"""POS fixtures: a signed-in staff tablet, catalogue items, orders, and a look at the rows."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from app.domain import money
from app.domain.catalog import service as catalog
from app.domain.pos import checkout as pos_checkout
from app.domain.pos.models import SaleOrder, SaleOrderItem
from app.domain.uow import run_unit

ORDER_FIELDS = (
    "id number label status version subtotal { amount } total { amount } customer { id } "
    "mergedInto { id } items { id itemType itemId mode name unitPrice { amount } quantity "
    "discount { amount } note lineTotal { amount } }"
)
CREATE = (
    f"mutation($i: CreateSaleOrderInput!) {{ createSaleOrder(input: $i) {{ order {{ "
    f"{ORDER_FIELDS} }} errors {{ code field message }} }} }}"
)
ADD = (
    f"mutation($i: AddSaleOrderItemInput!) {{ addSaleOrderItem(input: $i) {{ order {{ "
    f"{ORDER_FIELDS} }} errors {{ code field message }} }} }}"
)
UPDATE = (
    f"mutation($o: ID!, $items: [SaleOrderItemUpdate!]!) {{ updateSaleOrderItems(orderId: $o, items: $items) "
    f"{{ order {{ {ORDER_FIELDS} }} errors {{ code field message }} }} }}"
)
REMOVE = (
    f"mutation($o: ID!, $l: ID!) {{ removeSaleOrderItem(orderId: $o, itemId: $l) "
    f"{{ order {{ {ORDER_FIELDS} }} errors {{ code field message }} }} }}"
)
CLEAR = (
    f"mutation($o: ID!) {{ clearSaleOrderItems(orderId: $o) {{ order {{ {ORDER_FIELDS} }} "
    f"errors {{ code field message }} }} }}"
)
CANCEL = (
    f"mutation($o: ID!) {{ cancelSaleOrder(orderId: $o) {{ order {{ {ORDER_FIELDS} }} errors {{ "
    f"code field message }} }} }}"
)
MERGE = (
    f"mutation($t: ID!, $s: [ID!]!) {{ mergeSaleOrders(targetOrderId: $t, sourceOrderIds: $s) "
    f"{{ order {{ {ORDER_FIELDS} }} errors {{ code field message }} }} }}"
)
SPLIT = (
    f"mutation($o: ID!, $items: [SplitLineInput!]!) {{ splitSaleOrder(orderId: $o, items: $items) "
    f"{{ source {{ {ORDER_FIELDS} }} created {{ {ORDER_FIELDS} }} errors {{ code field message }} }} }}"
)
ORDER = f"query($id: ID!) {{ saleOrder(id: $id) {{ {ORDER_FIELDS} }} }}"


class Pos:
    """A staff tablet over GraphQL, plus catalogue items and row-level looks for assertions."""

    def __init__(self, db, gql, token: str) -> None:
        self.db, self.gql, self.token = db, gql, token
        self._sku = 0

    async def product(self, name: str = "Burger chew", price: str = "5.00", **kwargs: Any):
        self._sku += 1
        new = catalog.prepare_product(
            sku=f"SKU-{uuid.uuid4().hex[:8]}",
            name=name,
            description=None,
            category="TOY",
            price=Decimal(price),
            stock=kwargs.get("stock", 100),
        )
        return await run_unit(
            self.db.sessions, lambda uow: catalog.create_product(uow, new), lock_timeout_ms=3000
        )

    async def service(self, name: str = "Nail trim", price: str = "12.50"):
        new = catalog.prepare_service(name=name, price=Decimal(price), duration_minutes=15)
        return await run_unit(
            self.db.sessions, lambda uow: catalog.create_service(uow, new), lock_timeout_ms=3000
        )

    async def call(self, document: str, variables: dict, token: str | None = None) -> dict:
        result = await self.gql(document, variables, token=token or self.token)
        assert "errors" not in result, result
        return next(iter(result["data"].values()))

    async def ok(self, document: str, variables: dict, token: str | None = None) -> dict:
        payload = await self.call(document, variables, token)
        assert payload["errors"] == [], payload
        return payload

    async def order(self, label: str | None = "Table 4", customer_id: str | None = None) -> dict:
        return (await self.ok(CREATE, {"i": {"label": label, "customerId": customer_id}}))["order"]

    async def add(
        self, order_id: str, item, quantity: int = 1, token: str | None = None, **extra: Any
    ) -> dict:
        item_type = "SERVICE" if type(item).__name__ == "Service" else "PRODUCT"
        return await self.call(
            ADD,
            {
                "i": {
                    "orderId": order_id,
                    "itemType": item_type,
                    "itemId": str(item.id),
                    "quantity": quantity,
                    **extra,
                }
            },
            token,
        )

    async def order_coming_to(self, service, total: str) -> dict:
        """An order of CUSTOM lines of `service` coming to exactly `total` (a multiple of 0.01)."""
        order = await self.order()
        left = money.cents(Decimal(total))
        while left >= money.MAX_PRICE * 999:
            await self.add(order["id"], service, 999, mode="CUSTOM", unitPrice=str(money.MAX_PRICE))
            left -= money.MAX_PRICE * 999
        for price in (money.MAX_PRICE, Decimal(1000), Decimal(1)):
            if left >= price:
                quantity = min(int(left // price), 999)
                await self.add(order["id"], service, quantity, mode="CUSTOM", unitPrice=str(price))
                left -= price * quantity
        if left:
            await self.add(order["id"], service, 1, mode="CUSTOM", unitPrice=str(left))
        read = await self.read(order["id"])
        assert read["total"]["amount"] == total
        return read

    async def read(self, order_id: str) -> dict:
        result = await self.gql(ORDER, {"id": order_id}, token=self.token)
        return result["data"]["saleOrder"]

    async def row(self, order_id) -> SaleOrder:
        async with self.db.read() as session:
            return (
                await session.scalars(select(SaleOrder).where(SaleOrder.id == uuid.UUID(str(order_id))))
            ).one()

    async def lines(self, order_id) -> list[SaleOrderItem]:
        async with self.db.read() as session:
            return list(
                await session.scalars(
                    select(SaleOrderItem)
                    .where(SaleOrderItem.order_id == uuid.UUID(str(order_id)))
                    .order_by(SaleOrderItem.created_at, SaleOrderItem.id)
                )
            )


@pytest.fixture
async def pos(db, gql, users) -> Pos:
    _, token = await users.signed_in("STAFF")
    return Pos(db, gql, token)


def assert_order_locked_before_any_write(sql) -> None:
    sql.assert_locks_before_write("sale_orders")


async def card_checkout_request(db, order_id: str):
    """A POS checkout of `order_id` by card, prepared for a domain-level unit of work."""
    async with db.read() as session:
        return await pos_checkout.prepare_checkout(
            session,
            order_id=order_id,
            key=uuid.uuid4().hex,
            method="CARD",
            amount_tendered=None,
            register=None,
            customer_id=None,
            coupon_code=None,
            redeem_points=0,
        )
