"""Merging orders (tables joining up): lines of the sources go to the target."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import case, delete, func, literal, select
from sqlalchemy.dialects.postgresql import UUID, aggregate_order_by, insert
from sqlalchemy.exc import IntegrityError

from app.domain import limits, money
from app.domain.errors import DomainError, not_found, validation
from app.domain.fields import MAX_QUANTITY, parse_id
from app.domain.pos import rules
from app.domain.pos.models import STANDARD_LINE, SaleOrder, SaleOrderItem
from app.domain.pos.orders import announcement, applied, bump, lock_orders, not_editable
from app.domain.uow import UnitOfWork, constraint_name

items = SaleOrderItem.__table__


def prepare_merge(target_order_id: str, source_order_ids: Sequence[str]) -> tuple[uuid.UUID, list[uuid.UUID]]:
    limits.at_most(source_order_ids, limits.MAX_MERGED_ORDERS, "sourceOrderIds", "orders")
    target = parse_id(target_order_id, "targetOrderId", "Sale order")
    if not source_order_ids:
        raise validation("Name at least one order to merge", "sourceOrderIds")
    sources = rules.distinct_ids(source_order_ids, "sourceOrderIds", "Sale order")
    if target in sources:
        raise validation("An order cannot be merged into itself", f"sourceOrderIds.{sources.index(target)}")
    return target, sources


async def merge_orders(uow: UnitOfWork, *, target_id: uuid.UUID, source_ids: list[uuid.UUID]) -> SaleOrder:
    """Target and sources locked in one statement ordered by id (so A-into-B racing
    B-into-A cannot deadlock: the second finds its target MERGED), all DRAFT. Then one
    statement: STANDARD lines merge into the target's line of the same item (the
    target's line keeps its price), CUSTOM lines move, sources become MERGED, and every
    order's version is bumped. The merged total is judged after that statement, at the prices
    the lines kept (a source's units of the target's item take the target line's price), and the
    unit fails whole when it is past what a sale can record."""
    locked = await lock_orders(uow, [target_id, *source_ids])
    errors: list[DomainError] = []
    for field, order_id in [
        ("targetOrderId", target_id),
        *[(f"sourceOrderIds.{i}", s) for i, s in enumerate(source_ids)],
    ]:
        order = locked.get(order_id)
        if order is None:
            errors.append(not_found("Sale order", field))
        elif order.status != "DRAFT":
            errors.append(not_editable(order, field))
    if errors:
        raise DomainError.many(errors)

    from_sources = items.c.order_id.in_(source_ids)
    first = (items.c.created_at, items.c.id)
    standard = (
        select(
            func.gen_random_uuid(),
            literal(target_id, UUID(as_uuid=True)),
            items.c.item_type,
            items.c.item_id,
            literal("STANDARD"),
            func.array_agg(aggregate_order_by(items.c.name, *first))[1],
            func.array_agg(aggregate_order_by(items.c.unit_price, *first))[1],
            func.sum(items.c.quantity),
        )
        .where(from_sources, items.c.mode == "STANDARD")
        .group_by(items.c.item_type, items.c.item_id)
    )
    merged = insert(items).from_select(
        ["id", "order_id", "item_type", "item_id", "mode", "name", "unit_price", "quantity"], standard
    )
    merged = merged.on_conflict_do_update(
        index_elements=[items.c.order_id, items.c.item_type, items.c.item_id],
        index_where=STANDARD_LINE,
        set_={"quantity": items.c.quantity + merged.excluded.quantity},
    )
    dropped = delete(items).where(from_sources, items.c.mode == "STANDARD")
    moved = items.update().where(from_sources, items.c.mode == "CUSTOM").values(order_id=target_id)
    is_target = SaleOrder.__table__.c.id == target_id
    stmt = bump(
        [target_id, *source_ids],
        status=case((is_target, SaleOrder.__table__.c.status), else_=literal("MERGED")),
        merged_into_id=case((is_target, None), else_=literal(target_id, UUID(as_uuid=True))),
    )
    stmt = stmt.add_cte(merged.cte("merged"), dropped.cte("dropped"), moved.cte("moved"))
    # Each order's NOTIFY comes back with its bump: no statement per order while they are locked.
    try:
        applied(locked, (await uow.session.execute(stmt.returning(announcement()))).all())
    except IntegrityError as error:  # the line's own check, which would name an argument merge has not
        if constraint_name(error) != "ck_sale_order_items_quantity_in_range":
            raise
        raise validation(
            f"A merged line would hold more than {MAX_QUANTITY} units", "sourceOrderIds"
        ) from error
    line_totals = func.sum(items.c.unit_price * items.c.quantity - items.c.discount)
    merged_total = select(func.coalesce(line_totals, 0)).where(items.c.order_id == target_id)
    if (await uow.session.execute(merged_total)).scalar_one() > money.MAX_AMOUNT:
        raise validation(f"The merged order would come to more than {money.MAX_AMOUNT}", "sourceOrderIds")
    return locked[target_id]
