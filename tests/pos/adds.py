"""Adds to one order as the domain runs them, for the races in test_races*.py: lines as the API
hands them over, a process's unit for a batch of them, and what their answers must be."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal

from app.db.engine import Database
from app.domain.pos import items
from app.domain.pos.models import SaleOrder
from app.domain.uow import UnitOfWork
from tests.races import row_lock_held, start_unit, wait_for_lock_waiters


def line(order_id, product, quantity: int = 1) -> items.NewLine:
    """A STANDARD add of `product`, priced (as the one-line path items.add_item takes it)."""
    return items.NewLine(
        order_id=uuid.UUID(str(order_id)),
        item_type="PRODUCT",
        item_id=product.id,
        mode="STANDARD",
        name=product.name,
        unit_price=product.price,
        quantity=quantity,
        discount=product.price * 0,
        note=None,
    )


def checked(
    order_id: str,
    item,
    quantity: int,
    mode: str = "STANDARD",
    unit_price: str | None = None,
    discount: str = "0",
    note: str | None = None,
) -> items.CheckedLine:
    """An add as the API hands it to the order's unit (items.add_checked), its item not read yet."""
    return items.CheckedLine(
        order_id=uuid.UUID(order_id),
        item_type="SERVICE" if type(item).__name__ == "Service" else "PRODUCT",
        item_id=item.id,
        mode=mode,
        quantity=quantity,
        unit_price=None if unit_price is None else Decimal(unit_price),
        discount=Decimal(discount),
        note=note,
    )


def adding(lines: list[items.CheckedLine]) -> Callable[[UnitOfWork], Awaitable[list[items.ChangedOrder]]]:
    """The unit a process runs for its batch of adds to one order whose lock is held elsewhere."""
    return lambda uow: items.add_checked(uow, lines)


def assert_each_add_answers_as_if_alone(
    answered: list[tuple[items.CheckedLine, items.ChangedOrder]], prices: dict[uuid.UUID, Decimal]
) -> None:
    """The adds to an order that had no lines: each has a version of its own, one after the order's
    creation (1), and answers with the order as it left it, the lines of every add before it and its
    own (a STANDARD add of an item grows that item's line, a CUSTOM add is a line of its own)."""
    answered = sorted(answered, key=lambda pair: pair[1].version)
    assert [answer.version for _, answer in answered] == list(range(2, 2 + len(answered)))
    gross = net = Decimal(0)
    standard: set[uuid.UUID] = set()
    lines = 0
    for line, answer in answered:
        price = line.unit_price or prices[line.item_id]
        gross += price * line.quantity
        net += price * line.quantity - line.discount
        if line.mode == "CUSTOM" or line.item_id not in standard:
            lines += 1
        if line.mode == "STANDARD":
            standard.add(line.item_id)
        assert (answer.subtotal, sum(answer.line_totals), len(answer.line_totals)) == (gross, net, lines)


async def queued_on_the_order(
    db: Database, order_id: str, batches: list[list[items.CheckedLine]], watched: Database | None = None
) -> list[list[items.ChangedOrder]]:
    """Each batch as the unit of a process of its own, all queued on the held order row (counted on
    `watched`, `db` by default), then let go; their answers in batch order."""
    async with row_lock_held(db, SaleOrder, uuid.UUID(order_id)):
        units = [start_unit(db, adding(batch)) for batch in batches]
        await wait_for_lock_waiters(watched or db, len(units), table="sale_orders", racers=units)
    return list(await asyncio.gather(*units))


async def assert_one_line_of_the_sum(
    pos, order_id: str, batches: list[list[items.CheckedLine]], answers: list[list[items.ChangedOrder]], item
) -> None:
    """STANDARD adds of one item: each answered as if alone, one line of their sum, a version each."""
    assert_each_add_answers_as_if_alone(
        [pair for batch, answer in zip(batches, answers) for pair in zip(batch, answer, strict=True)],
        {item.id: item.price},
    )
    adds = [line for batch in batches for line in batch]
    total = sum(line.quantity for line in adds)
    assert [(l.quantity, l.mode) for l in await pos.lines(order_id)] == [(total, "STANDARD")]
    assert (await pos.row(order_id)).version == 1 + len(adds)
