"""Sale orders: the order-row lock that coordinates every change, the version bump
every change makes, the announcement of it, and the order-level services (create, cancel)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Row, Update, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningInsert

from app.domain.accounts.models import User
from app.domain.errors import DomainError, not_found, validation
from app.domain.fields import Checks, parse_id
from app.domain.locks import lock_found, lock_rows
from app.domain.pos import live, rules
from app.domain.pos.models import SaleOrder
from app.domain.sales.recording import not_a_customer
from app.domain.uow import UnitOfWork

orders = SaleOrder.__table__

# What a change may set on an order row besides its version; read back after the write.
CHANGED = (
    orders.c.id,
    orders.c.version,
    orders.c.updated_at,
    orders.c.status,
    orders.c.merged_into_id,
    orders.c.customer_id,
    orders.c.sale_id,
    orders.c.manual_discount,
    orders.c.discount_percent,
    orders.c.discount_limit_percent,
    orders.c.discount_reason,
)


class Shown(Protocol):
    number: str
    status: str


def not_editable(order: Shown, field: str | None = "orderId") -> DomainError:
    return DomainError("ORDER_NOT_EDITABLE", f"Order {order.number} is {order.status}, not DRAFT", field)


def expected_version(version: int | None) -> int | None:
    """The version a tablet names as the one it showed (input: at least 1), or None."""
    if version is not None and version < 1:
        raise validation("A version is at least 1", "expectedVersion")
    return version


def refuse_changed(order: SaleOrder, expected: int | None) -> None:
    """A change asked for the version a tablet showed is refused when another has changed the
    order since: it would pay for, or write over, what the cashier never saw."""
    if expected is not None and expected != order.version:
        raise DomainError(
            "ORDER_CHANGED",
            f"Order {order.number} has changed: it is at version {order.version}, not {expected}. "
            "Show it again before going on",
            "expectedVersion",
        )


async def lock_order(
    uow: UnitOfWork, order_id: uuid.UUID, field: str = "orderId", *, expected: int | None = None
) -> SaleOrder:
    """SELECT ... FROM sale_orders WHERE id = ... FOR NO KEY UPDATE: the coordination lock of
    every change to the order and its lines (no change deletes an order or changes its id, so
    foreign-key checks on it need not wait). Only a DRAFT order changes; given the `expected`
    version, only that one."""
    order = await lock_found(uow, SaleOrder, order_id, "Sale order", field, key_share=True)
    if order.status != "DRAFT":
        raise not_editable(order, field)
    refuse_changed(order, expected)
    return order


async def lock_orders(uow: UnitOfWork, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, SaleOrder]:
    """Several orders in one statement ordered by id, so crossed merges cannot deadlock."""
    return {order.id: order for order in await lock_rows(uow, SaleOrder, order_ids, key_share=True)}


def bump(order_ids: Iterable[uuid.UUID] | ColumnElement[uuid.UUID], **values: Any) -> Update:
    """The version bump every change makes (with whatever else it sets on the order rows).
    clock_timestamp(), not now(): a change that waited for the lock is stamped when it
    happened, so updated_at follows the version order."""
    which = (
        orders.c.id == order_ids if isinstance(order_ids, ColumnElement) else orders.c.id.in_(list(order_ids))
    )
    return (
        update(orders)
        .where(which)
        .values(version=orders.c.version + 1, updated_at=func.clock_timestamp(), **values)
        .returning(*CHANGED)
    )


def new_order(**values: Any) -> ReturningInsert[Any]:
    """The INSERT of a new order: created and last changed at one moment, clock_timestamp() read
    once (two readings differ, and updatedAt came out before createdAt)."""
    moment = select(func.clock_timestamp().label("at")).cte("moment")
    at = select(moment.c.at).scalar_subquery()
    return insert(orders).values(created_at=at, updated_at=at, **values).returning(*orders.c)


def applied(locked: dict[uuid.UUID, SaleOrder], rows: Iterable[Row[Any]]) -> None:
    """Carry what the write returned onto the locked rows (without making them dirty)."""
    for row in rows:
        order = locked[row.id]
        for column in CHANGED[1:]:
            set_committed_value(order, column.name, getattr(row, column.name))


async def write(
    uow: UnitOfWork, order: SaleOrder, stmt: Update, unchanged: DomainError | None = None
) -> SaleOrder:
    """Run one change statement that ends with the bump of `order` and announces it (the NOTIFY
    is part of the statement: no round trip of its own while the order is locked).
    A statement whose bump is conditional returns no row when nothing changed: `unchanged`."""
    row = (await uow.session.execute(stmt.returning(announcement()))).one_or_none()
    if row is None:
        assert unchanged is not None, "an unconditional bump always returns the order"
        raise unchanged
    applied({order.id: order}, [row])
    return order


def announcement(rows: Any = orders) -> ColumnElement[Any]:
    """NOTIFY of the new version, as a column of the bump's RETURNING (the order row as updated;
    or of `rows`, order rows a statement has written). Sent inside the transaction: subscribers
    hear of the change only if it commits. No round trip of its own while the order is locked."""
    return live.notify(rows.c.id, rows.c.version)


@dataclass(frozen=True)
class NewOrder:
    label: str | None
    customer_id: uuid.UUID | None


async def prepare_order(session: AsyncSession, *, label: str | None, customer_id: str | None) -> NewOrder:
    """The label and the customer checked; an unknown customer is reported beside a bad label."""
    check = Checks()
    checked_label = check(lambda: rules.label(label))
    customer = check(lambda: parse_id(customer_id, "customerId", "Customer")) if customer_id else None
    if customer is not None:
        found = await session.get(User, customer)
        if found is None:
            check.fail(not_found("Customer", "customerId"))
        elif found.role != "CUSTOMER":
            check.fail(not_a_customer())
    check.done()
    return NewOrder(checked_label, customer)


async def create_order(uow: UnitOfWork, new: NewOrder, *, by: uuid.UUID) -> SaleOrder:
    """One INSERT: a new order has nothing to coordinate with yet. A customer deleted
    since prepare_order is NOT_FOUND through the foreign key."""
    uow.lock_free("a new order")
    stmt = new_order(id=uuid.uuid4(), label=new.label, customer_id=new.customer_id, created_by=by)
    row = (await uow.session.execute(stmt)).one()
    return SaleOrder(**row._mapping)


async def cancel_order(uow: UnitOfWork, *, order_id: uuid.UUID) -> SaleOrder:
    order = await lock_order(uow, order_id)
    return await write(uow, order, bump([order.id], status="CANCELLED"))
