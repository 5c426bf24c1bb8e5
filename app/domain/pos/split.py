"""Splitting an order (separate bills): whole or partial lines move to a new DRAFT order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Numeric, column, select, values
from sqlalchemy.dialects.postgresql import UUID, insert

from app.domain import fields, limits, money
from app.domain.errors import DomainError, not_found, validation
from app.domain.fields import Checks, parse_id
from app.domain.pos.models import SaleOrder, SaleOrderItem
from app.domain.pos.orders import announcement, applied, bump, lock_order, new_order
from app.domain.uow import UnitOfWork

items = SaleOrderItem.__table__
orders = SaleOrder.__table__
# What the moved part of a partly moved line keeps of it; created_at too, so the bill lists lines in
# the order they were rung up, not in the random order of ids that lines inserted in one statement
# would otherwise share.
KEPT = ("item_type", "item_id", "mode", "name", "unit_price", "note", "created_at")


@dataclass(frozen=True)
class SplitLine:
    line_id: uuid.UUID
    quantity: int


def prepare_split(order_id: str, lines: list[tuple[str, int]]) -> tuple[uuid.UUID, list[SplitLine]]:
    limits.at_most(lines, limits.MAX_LINES, "items", "lines")
    order = parse_id(order_id, "orderId", "Sale order")
    if not lines:
        raise validation("Name at least one line to move", "items")
    check = Checks()
    prepared: dict[uuid.UUID, SplitLine] = {}  # by line id
    for i, (item_id, quantity) in enumerate(lines):
        line_id = check(lambda: parse_id(item_id, f"items.{i}.itemId", "Order line"))
        moved = check(lambda: fields.quantity(quantity, f"items.{i}.quantity"))
        if line_id is None or moved is None:
            continue
        if line_id in prepared:
            check.fail(validation("Line listed twice", f"items.{i}.itemId"))
        else:
            prepared[line_id] = SplitLine(line_id, moved)
    check.done()
    return order, list(prepared.values())


def discount_share(discount: Decimal, moved: int, of: int) -> Decimal:
    """The moved units' part of a line discount: in proportion, half-up to cents. The
    rest stays, so the two parts add up to the original exactly."""
    return money.cents(discount * moved / of)


async def split_order(
    uow: UnitOfWork, *, order_id: uuid.UUID, lines: list[SplitLine], by: uuid.UUID
) -> tuple[SaleOrder, SaleOrder]:
    """Lock the order, read the named lines after the lock, then one statement: create
    the new order (same customer and label), move whole lines, shrink partly moved ones
    and copy their moved part, bump the source's version."""
    order = await lock_order(uow, order_id)
    found = {
        line.id: line
        for line in await uow.session.scalars(
            select(SaleOrderItem).where(
                SaleOrderItem.order_id == order.id, SaleOrderItem.id.in_([l.line_id for l in lines])
            )
        )
    }
    errors: list[DomainError] = []
    whole: list[uuid.UUID] = []
    kept: list[tuple[uuid.UUID, int, Decimal]] = []
    copies: list[dict[str, Any]] = []
    new_id = uuid.uuid4()
    for i, wanted in enumerate(lines):
        line = found.get(wanted.line_id)
        if line is None:
            errors.append(not_found("Order line", f"items.{i}.itemId"))
        elif wanted.quantity > line.quantity:
            errors.append(validation(f"The line has only {line.quantity}", f"items.{i}.quantity"))
        elif wanted.quantity == line.quantity:
            whole.append(line.id)
        else:
            share = discount_share(line.discount, wanted.quantity, line.quantity)
            kept.append((line.id, line.quantity - wanted.quantity, line.discount - share))
            copies.append(
                {name: getattr(line, name) for name in KEPT}
                | {"id": uuid.uuid4(), "order_id": new_id, "quantity": wanted.quantity, "discount": share}
            )
    if errors:
        raise DomainError.many(errors)

    created = new_order(id=new_id, label=order.label, customer_id=order.customer_id, created_by=by).cte(
        "created"
    )
    stmt = bump([order.id]).add_cte(created)
    if whole:
        stmt = stmt.add_cte(
            items.update()
            .where(items.c.order_id == order.id, items.c.id.in_(whole))
            .values(order_id=new_id)
            .cte("moved")
        )
    if kept:
        rest = values(
            column("id", UUID(as_uuid=True)),
            column("quantity", Integer),
            column("discount", Numeric(12, 2)),
            name="rest",
        ).data(kept)
        stmt = stmt.add_cte(
            items.update()
            .where(items.c.id == rest.c.id)
            .values(quantity=rest.c.quantity, discount=rest.c.discount)
            .cte("kept")
        )
        stmt = stmt.add_cte(insert(items).values(copies).cte("copied"))
    # The new order's row comes back with the bump of the source, and both orders' NOTIFYs.
    stmt = stmt.returning(
        *[select(c).scalar_subquery().label(f"new_{c.name}") for c in created.c],
        announcement(),
        select(announcement(created)).scalar_subquery().label("new_announced"),
    )
    row = (await uow.session.execute(stmt)).one()
    applied({order.id: order}, [row])
    new = SaleOrder(**{c.name: getattr(row, f"new_{c.name}") for c in created.c})
    return order, new
