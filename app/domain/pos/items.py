"""Lines of a sale order: add (STANDARD merges, CUSTOM never does), bulk update, remove,
clear. Each opens with the order-row lock and writes in one statement that also bumps
the order's version; the item's name and price are read before the unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    FromClause,
    Integer,
    Numeric,
    Row,
    ScalarSelect,
    Select,
    Subquery,
    Text,
    Update,
    bindparam,
    case,
    cast,
    column,
    delete,
    exists,
    false,
    func,
    literal_column,
    select,
    true,
    union_all,
    values,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID, aggregate_order_by, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from app import metrics
from app.db.connectivity import DatabaseUnavailable
from app.domain import fields, limits, money
from app.domain.catalog.models import Product, Service
from app.domain.coalescing import Coalescer
from app.domain.errors import Code, DomainError, not_found, validation
from app.domain.fields import every, parse_id
from app.domain.locks import lock_values
from app.domain.pos import live, rules
from app.domain.pos.models import ITEM_TYPES, STANDARD_LINE, SaleOrder, SaleOrderItem
from app.domain.pos.orders import announcement, bump, lock_order, not_editable, orders, write
from app.domain.statements import run_built
from app.domain.taxes.models import TaxRate
from app.domain.uow import UnitOfWork

items = SaleOrderItem.__table__

SELLABLE: dict[str, type[Product | Service]] = {"PRODUCT": Product, "SERVICE": Service}
T = TypeVar("T")


@dataclass(frozen=True)
class NewLine:
    order_id: uuid.UUID
    item_type: str
    item_id: uuid.UUID
    mode: str
    name: str
    unit_price: Decimal
    quantity: int
    discount: Decimal
    note: str | None


@dataclass(frozen=True)
class CheckedLine:
    """An add's input, checked; the item's name and price are not read yet."""

    order_id: uuid.UUID
    item_type: str
    item_id: uuid.UUID
    mode: str
    quantity: int
    unit_price: Decimal | None
    discount: Decimal
    note: str | None


def check_line(
    *,
    order_id: str,
    item_type: str,
    item_id: str,
    quantity: int,
    mode: str,
    unit_price: Decimal | None,
    discount: Decimal | None,
    note: str | None,
) -> CheckedLine:
    """Check the input (no database). Only a CUSTOM line takes its own unit price, discount and note."""
    custom = mode == "CUSTOM"
    checks: dict[str, Callable[[], Any]] = dict(
        order_id=lambda: parse_id(order_id, "orderId", "Sale order"),
        item_id=lambda: parse_id(item_id, "itemId", "item"),
        quantity=lambda: fields.quantity(quantity),
    )
    if custom:
        checks.update(
            unit_price=lambda: money.price(unit_price, "unitPrice") if unit_price is not None else None,
            discount=lambda: rules.discount(discount) if discount is not None else money.ZERO,
            note=lambda: rules.note(note),
        )
    else:

        def custom_only(value: object, field: str, empty: object, default: T) -> T:
            if value is not None and value != empty:
                raise validation("Only a CUSTOM line takes this; send mode: CUSTOM", field)
            return default

        checks.update(
            unit_price=lambda: custom_only(unit_price, "unitPrice", None, None),
            discount=lambda: custom_only(discount, "discount", 0, money.ZERO),
            note=lambda: custom_only((note or "").strip(), "note", "", None),
        )
    if item_type not in ITEM_TYPES:
        raise validation("Unknown item type", "itemType")
    return CheckedLine(item_type=item_type, mode=mode, **every(**checks))


async def price_line(session: AsyncSession, line: CheckedLine) -> NewLine:
    """Read the item's name and price (active items only; one Core statement, no ORM object)."""
    model = SELLABLE[line.item_type]
    item = (
        await session.execute(
            select(model.name, model.price).where(model.id == line.item_id, model.active.is_(True))
        )
    ).one_or_none()
    if item is None:
        raise not_found("Product" if line.item_type == "PRODUCT" else "Service", "itemId")
    price = line.unit_price or item.price
    rules.discount_within_line(line.discount, price, line.quantity)
    return NewLine(
        order_id=line.order_id,
        item_type=line.item_type,
        item_id=line.item_id,
        mode=line.mode,
        name=item.name,
        unit_price=price,
        quantity=line.quantity,
        discount=line.discount,
        note=line.note,
    )


async def prepare_line(session: AsyncSession, **line: Any) -> NewLine:
    """check_line, then price_line (the item read in `session`)."""
    return await price_line(session, check_line(**line))


@dataclass(frozen=True)
class ChangedOrder:
    """The order as an add left it, all from the add statement's RETURNING: no read after the write.
    The amounts are those of the version returned."""

    id: uuid.UUID
    number: str
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    label: str | None
    customer_id: uuid.UUID | None
    merged_into_id: uuid.UUID | None
    sale_id: uuid.UUID | None
    manual_discount: Decimal
    discount_percent: Decimal | None
    discount_limit_percent: Decimal | None
    discount_reason: str | None
    subtotal: Decimal
    # The order's lines, oldest first: what each comes to and the rate its item is charged at now.
    line_totals: list[Decimal]
    rates: list[Decimal | None]


def _is_final(error: Exception) -> bool:
    """A batch's failure that each add alone would meet too: the lock stayed busy through every
    retry, or the database went away."""
    busy = isinstance(error, DomainError) and error.code == Code.BUSY
    return busy or isinstance(error, DatabaseUnavailable)


# Adds to one order that arrive while another add to it runs in this process are taken together.
_adds: Coalescer[uuid.UUID, CheckedLine, ChangedOrder] = Coalescer(final=_is_final)
Work = Callable[[UnitOfWork], Awaitable[T]]


async def add(
    line: CheckedLine, run: Callable[[Work[list[ChangedOrder]]], Awaitable[list[ChangedOrder]]]
) -> ChangedOrder:
    """The add as the API runs it: with the adds to the same order that queue behind one in flight,
    in one unit of work that `run` runs (app/domain/coalescing.py)."""

    async def batch(lines: list[CheckedLine]) -> list[ChangedOrder]:
        metrics.ORDER_ADD_BATCH.observe(len(lines))
        return await run(lambda uow: add_checked(uow, lines))

    return await _adds.submit(line.order_id, line, batch)


def adds_waiting(order_id: uuid.UUID) -> int:
    """Adds to the order waiting in this process for the next batch."""
    return _adds.waiting(order_id)


async def add_checked(uow: UnitOfWork, lines: Sequence[CheckedLine]) -> list[ChangedOrder]:
    """Adds to one order in one unit, on the primary: the order lock once, then each line's statement in
    turn, so each add answers as if it ran alone (its own version and amounts). A line with a
    discount has it checked against the price first, so it reads its item before the lock."""
    assert len({line.order_id for line in lines}) == 1
    priced = [await price_line(uow.session, line) if line.discount else line for line in lines]
    order = await lock_draft_order(uow, lines[0].order_id)
    if len(priced) > 1:
        rows = (await run_built(uow.session, ADD_LINES, order=order.id, **_batch_params(priced))).all()
        if rows:
            return [_changed(row) for row in rows]
        # An unknown item, or a total past the limit: nothing was written. Each add in turn finds
        # which (the batch then fails whole, and the coalescer reruns each add alone).
    return [
        await _add(uow, order, line.item_type, line.item_id, _params(line, _name(line), line.unit_price))
        for line in priced
    ]


def _name(line: NewLine | CheckedLine) -> str | None:
    """A priced line's name; else the add statement reads it."""
    return line.name if isinstance(line, NewLine) else None


async def add_item(uow: UnitOfWork, line: NewLine) -> ChangedOrder:
    """Lock the order, then add the line. Under the lock two tablets adding the same item
    serialise: the second finds the first's line and adds to it."""
    return await add_line(uow, await lock_draft_order(uow, line.order_id), line)


async def lock_draft_order(uow: UnitOfWork, order_id: uuid.UUID) -> Row[Any]:
    """The order lock of an add (FOR NO KEY UPDATE), columns only: no ORM object on the hot path."""
    order = await lock_values(uow, orders, order_id, orders.c.id, orders.c.status, orders.c.number)
    if order is None:
        raise not_found("Sale order", "orderId")
    if order.status != "DRAFT":
        raise not_editable(order)
    return order


def order_total(order_id: BindParameter[uuid.UUID], lines: FromClause = items) -> ScalarSelect[Any]:
    """What the order's lines add up to (price x quantity - discount), as a subquery."""
    return (
        select(func.coalesce(func.sum(lines.c.unit_price * lines.c.quantity - lines.c.discount), 0))
        .where(lines.c.order_id == order_id)
        .scalar_subquery()
    )


def _add_line_statement(sellable: type[Product | Service]) -> Update:
    """Upsert the line (a STANDARD line of the same item gains the quantity; a CUSTOM
    line is always new) and bump the order's version, in one statement. Built once:
    it runs inside the locked window of the hottest path, so no time goes on building SQL.
    The item's name and catalogue price are read by the statement itself unless given: the line
    goes in only for an active item, and only while the order's total stays within what a sale
    can record; otherwise nothing is written and no row comes back."""
    order = bindparam("order", type_=items.c.order_id.type)
    new: dict[str, ColumnElement[Any]] = {
        "order_id": order,
        **{
            name: bindparam(f"new_{name}", type_=items.c[name].type)
            for name in (
                "id",
                "item_type",
                "item_id",
                "mode",
                "name",
                "unit_price",
                "quantity",
                "discount",
                "note",
            )
        },
    }
    active = (sellable.id == new["item_id"], sellable.active.is_(True))
    new["name"] = func.coalesce(new["name"], select(sellable.name).where(*active).scalar_subquery())
    new["unit_price"] = func.coalesce(
        new["unit_price"], select(sellable.price).where(*active).scalar_subquery()
    )
    # A STANDARD add grows the item's STANDARD line, which keeps the price it was first added at.
    same = items.alias("same")
    grown_price = (
        select(same.c.unit_price)
        .where(
            same.c.order_id == order,
            same.c.item_type == new["item_type"],
            same.c.item_id == new["item_id"],
            same.c.mode == literal_column("'STANDARD'"),
            new["mode"] == literal_column("'STANDARD'"),
        )
        .scalar_subquery()
    )
    gross = new["quantity"] * func.coalesce(grown_price, new["unit_price"])
    added = gross - new["discount"]
    fits = order_total(order, items.alias("present")) + added <= money.MAX_AMOUNT
    insert_line = insert(items).from_select(
        [*new], select(*new.values()).where(fits, new["name"].is_not(None), new["unit_price"].is_not(None))
    )
    # The line keeps the price it was first added at; only its quantity grows.
    upsert = insert_line.on_conflict_do_update(
        index_elements=[items.c.order_id, items.c.item_type, items.c.item_id],
        index_where=STANDARD_LINE,
        set_={"quantity": items.c.quantity + insert_line.excluded.quantity},
    ).returning(*LINE_AMOUNT_COLUMNS)
    line = upsert.cte("line")
    amounts = _amounts_after(order, line)
    # Bumped (and the amounts returned) only if the line went in.
    return (
        bump(order)
        .where(amounts.c.added)
        .add_cte(line)
        .returning(
            orders.c.number,
            orders.c.created_at,
            orders.c.label,
            amounts.c.subtotal,
            amounts.c.line_totals,
            amounts.c.rates,
            announcement(),
        )
    )


LINE_AMOUNT_COLUMNS = (
    items.c.id,
    items.c.created_at,
    items.c.unit_price,
    items.c.quantity,
    items.c.discount,
    items.c.item_type,
    items.c.item_id,
)


def _amounts_after(order: BindParameter[uuid.UUID], line: CTE) -> Subquery:
    """The order's lines after the add, as one row: whether the line went in, the subtotal, and
    each line's total and tax rate in the order the lines are listed (oldest first). All of a
    statement's parts see the snapshot it started with, so the lines are those before the add with
    the added line, as the upsert returned it, in place of its old self. The payload's totals and
    tax come from these: no read after the write."""
    before = items.alias("before")
    after = union_all(
        select(false().label("added"), *(before.c[c.name] for c in LINE_AMOUNT_COLUMNS)).where(
            before.c.order_id == order, before.c.id.not_in(select(line.c.id))
        ),
        select(true().label("added"), *(line.c[c.name] for c in LINE_AMOUNT_COLUMNS)),
    ).subquery("after")
    listed = (after.c.created_at, after.c.id)
    return select(
        func.bool_or(after.c.added).label("added"),
        func.sum(after.c.unit_price * after.c.quantity).label("subtotal"),
        func.array_agg(
            aggregate_order_by(after.c.unit_price * after.c.quantity - after.c.discount, *listed)
        ).label("line_totals"),
        func.array_agg(aggregate_order_by(_charged_rate(after), *listed)).label("rates"),
    ).subquery("amounts")


def _charged_rate(line: FromClause) -> ColumnElement[Any]:
    """The rate a line's item is charged at now (NULL: untaxed), as tax_views.item_rates reads it."""

    def rate_of(model: type[Product | Service]) -> ScalarSelect[Any]:
        return (
            select(TaxRate.rate)
            .join(model, (model.tax_rate_id == TaxRate.id) & TaxRate.active.is_(True))
            .where(model.id == line.c.item_id)
            .scalar_subquery()
        )

    return case((line.c.item_type == "PRODUCT", rate_of(Product)), else_=rate_of(Service))


ADD_LINE = {item_type: _add_line_statement(model) for item_type, model in SELLABLE.items()}

# The columns of a batch of adds, one array each, in the order the adds arrived.
BATCH_COLUMNS: dict[str, TypeEngine[Any]] = {
    "id": UUID(as_uuid=True),
    "item_type": Text(),
    "item_id": UUID(as_uuid=True),
    "mode": Text(),
    "name": Text(),
    "unit_price": Numeric(12, 2),
    "quantity": Integer(),
    "discount": Numeric(12, 2),
    "note": Text(),
}


def _batch_params(lines: Sequence[NewLine | CheckedLine]) -> dict[str, Any]:
    params = [_params(line, _name(line), line.unit_price) for line in lines]
    return {f"new_{name}": [p[f"new_{name}"] for p in params] for name in BATCH_COLUMNS} | {
        "count": len(lines)
    }


def _add_lines_statement() -> Select[Any]:
    """Several adds to one order in one statement, as if each ran alone in turn: the lines go in
    (STANDARD adds of one item grow one line by their sum), the version goes up by one per add,
    and one row comes back per add, in order, with its own version and the amounts it left
    (the lines before the batch and those of the adds up to it) and its own NOTIFY. Only if
    every item is active and the order's total stays within what a sale can record; otherwise
    nothing is written and no row comes back."""
    order = bindparam("order", type_=items.c.order_id.type)
    count = bindparam("count", type_=Integer())
    adds = (
        func.unnest(*(cast(bindparam(f"new_{name}"), ARRAY(kind)) for name, kind in BATCH_COLUMNS.items()))
        .table_valued(*(column(name, kind) for name, kind in BATCH_COLUMNS.items()), with_ordinality="n")
        .render_derived(name="adds")
    )

    def catalog(field: str) -> ColumnElement[Any]:
        def of(model: type[Product | Service]) -> ScalarSelect[Any]:
            return (
                select(getattr(model, field))
                .where(model.id == adds.c.item_id, model.active.is_(True))
                .scalar_subquery()
            )

        return case((adds.c.item_type == "PRODUCT", of(Product)), else_=of(Service))

    standard = adds.c.mode == literal_column("'STANDARD'")
    before = items.alias("before")
    grown = (
        select(before.c.unit_price)
        .where(
            before.c.order_id == order,
            before.c.item_type == adds.c.item_type,
            before.c.item_id == adds.c.item_id,
            before.c.mode == literal_column("'STANDARD'"),
            standard,
        )
        .scalar_subquery()
    )
    priced = select(
        adds,
        func.coalesce(adds.c.name, catalog("name")).label("found_name"),
        func.coalesce(adds.c.unit_price, catalog("price")).label("new_price"),
        grown.label("grown_price"),
    ).cte("priced")
    # A STANDARD add's line is its item's; a CUSTOM add's line is its own.
    key = case(
        (
            priced.c.mode == literal_column("'STANDARD'"),
            priced.c.item_type + ":" + cast(priced.c.item_id, Text),
        ),
        else_=cast(priced.c.id, Text),
    )
    keyed = select(
        *(priced.c[c] for c in ("n", "id", "item_type", "item_id", "mode", "quantity", "discount", "note")),
        priced.c.found_name.label("name"),
        priced.c.new_price,
        func.coalesce(priced.c.grown_price, priced.c.new_price).label("unit_price"),
        priced.c.grown_price.is_not(None).label("grows"),
        key.label("key"),
        func.min(priced.c.n).over(partition_by=key).label("first"),
        func.sum(priced.c.quantity).over(partition_by=key).label("key_quantity"),
    ).cte("keyed")
    added = keyed.c.quantity * keyed.c.unit_price - keyed.c.discount
    ok = (
        select(
            func.bool_and(keyed.c.name.is_not(None) & keyed.c.new_price.is_not(None))
            & (order_total(order) + func.sum(added) <= money.MAX_AMOUNT)
        )
        .select_from(keyed)
        .scalar_subquery()
    )
    first = keyed.c.n == keyed.c.first
    columns = ("id", "item_type", "item_id", "mode", "name", "unit_price", "quantity", "discount", "note")
    insert_lines = insert(items).from_select(
        ["order_id", *columns],
        select(order, *(keyed.c.key_quantity if c == "quantity" else keyed.c[c] for c in columns)).where(
            first, ok
        ),
    )
    upsert = insert_lines.on_conflict_do_update(
        index_elements=[items.c.order_id, items.c.item_type, items.c.item_id],
        index_where=STANDARD_LINE,
        set_={"quantity": items.c.quantity + insert_lines.excluded.quantity},
    ).cte("upserted")
    # Every line after the batch: those before it, and those the batch creates (from their first add).
    line_key = case(
        (
            before.c.mode == literal_column("'STANDARD'"),
            before.c.item_type + ":" + cast(before.c.item_id, Text),
        ),
        else_=cast(before.c.id, Text),
    )
    lines = union_all(
        select(
            before.c.id,
            before.c.created_at,
            before.c.unit_price,
            before.c.quantity,
            before.c.discount,
            before.c.item_type,
            before.c.item_id,
            line_key.label("key"),
            literal_column("0").label("first"),
        ).where(before.c.order_id == order),
        select(
            keyed.c.id,
            func.now(),
            keyed.c.unit_price,
            literal_column("0"),
            keyed.c.discount,
            keyed.c.item_type,
            keyed.c.item_id,
            keyed.c.key,
            keyed.c.first,
        ).where(first, keyed.c.grows.is_(False)),
    ).subquery("lines")
    rated = select(lines, _charged_rate(lines).label("rate")).cte("rated")
    # Each line as add n left it: there once its first add is in, grown by the adds up to n.
    step, upto = keyed.alias("step"), keyed.alias("upto")
    states = (
        select(
            step.c.n,
            rated.c.created_at,
            rated.c.id,
            rated.c.unit_price,
            rated.c.discount,
            rated.c.rate,
            (
                rated.c.quantity
                + func.coalesce(
                    select(func.sum(upto.c.quantity))
                    .where(upto.c.key == rated.c.key, upto.c.n <= step.c.n)
                    .scalar_subquery(),
                    0,
                )
            ).label("quantity"),
        )
        .select_from(step.join(rated, rated.c.first <= step.c.n))
        .cte("states")
    )
    listed = (states.c.created_at, states.c.id)
    amounts = (
        select(
            states.c.n,
            func.sum(states.c.unit_price * states.c.quantity).label("subtotal"),
            func.array_agg(
                aggregate_order_by(states.c.unit_price * states.c.quantity - states.c.discount, *listed)
            ).label("line_totals"),
            func.array_agg(aggregate_order_by(states.c.rate, *listed)).label("rates"),
        )
        .group_by(states.c.n)
        .cte("amounts")
    )
    bumped = (
        bump(order)
        .values(version=orders.c.version + count)
        .where(ok)
        .add_cte(upsert)
        .returning(orders.c.number, orders.c.created_at, orders.c.label)
        .cte("bumped")
    )
    version = (bumped.c.version - count + amounts.c.n).label("version")
    payload = func.json_build_object("id", bumped.c.id, "version", version)
    return (
        select(
            *(bumped.c[c.name] for c in bumped.c if c.name != "version"),
            version,
            amounts.c.subtotal,
            amounts.c.line_totals,
            amounts.c.rates,
            func.pg_notify(live.CHANNEL, cast(payload, Text)).label("announced"),
        )
        .select_from(bumped.join(amounts, true()))
        .order_by(amounts.c.n)
    )


ADD_LINES = _add_lines_statement()


def total_too_large(field: str = "quantity") -> DomainError:
    return validation(f"An order comes to at most {money.MAX_AMOUNT}", field)


class Locked(Protocol):
    id: uuid.UUID


async def add_line(uow: UnitOfWork, order: Locked, line: NewLine) -> ChangedOrder:
    """The add on an order already locked: one statement (upsert, bump, NOTIFY), nothing after."""
    return await _add(uow, order, line.item_type, line.item_id, _params(line, line.name, line.unit_price))


def _params(line: NewLine | CheckedLine, name: str | None, unit_price: Decimal | None) -> dict[str, Any]:
    return dict(
        new_id=uuid.uuid4(),
        new_item_type=line.item_type,
        new_item_id=line.item_id,
        new_mode=line.mode,
        new_name=name,
        new_unit_price=unit_price,
        new_quantity=line.quantity,
        new_discount=line.discount,
        new_note=line.note,
    )


async def _add(
    uow: UnitOfWork, order: Locked, item_type: str, item_id: uuid.UUID, params: dict[str, Any]
) -> ChangedOrder:
    row = (await run_built(uow.session, ADD_LINE[item_type], order=order.id, **params)).one_or_none()
    if row is None:  # which of the statement's conditions failed: one more read, on this path only
        model = SELLABLE[item_type]
        found = await uow.session.execute(select(model.id).where(model.id == item_id, model.active.is_(True)))
        if found.first() is None:
            raise not_found("Product" if item_type == "PRODUCT" else "Service", "itemId")
        raise total_too_large()
    return _changed(row)


def _changed(row: Row[Any]) -> ChangedOrder:
    return ChangedOrder(**{name: getattr(row, name) for name in ChangedOrder.__dataclass_fields__})


@dataclass(frozen=True)
class LineUpdate:
    line_id: uuid.UUID
    quantity: int | None
    discount: Decimal | None
    note: str | None  # "" clears the note; None leaves it


def prepare_updates(updates: list[tuple[str, int | None, Decimal | None, str | None]]) -> list[LineUpdate]:
    """(itemId, quantity, discount, note) per line; every problem reported with its path."""
    limits.at_most(updates, limits.MAX_LINES, "items", "lines")
    if not updates:
        raise validation("Name at least one line", "items")
    errors: list[DomainError] = []
    prepared: list[LineUpdate] = []
    seen: set[uuid.UUID] = set()
    for i, (item_id, quantity, discount, note) in enumerate(updates):
        path = f"items.{i}"
        try:
            parts = every(
                line_id=lambda: parse_id(item_id, f"{path}.itemId", "Order line"),
                quantity=lambda: (
                    None
                    if quantity is None
                    else fields.quantity(quantity, f"{path}.quantity", allow_zero=True)
                ),
                discount=lambda: None if discount is None else rules.discount(discount, f"{path}.discount"),
                note=lambda: None if note is None else (rules.note(note, f"{path}.note") or ""),
            )
            if parts["line_id"] in seen:
                raise validation("Line listed twice", f"{path}.itemId")
        except DomainError as error:
            errors.extend(error.all())
            continue
        seen.add(parts["line_id"])
        prepared.append(LineUpdate(**parts))
    if errors:
        raise DomainError.many(errors)
    return prepared


async def update_items(uow: UnitOfWork, *, order_id: uuid.UUID, updates: list[LineUpdate]) -> SaleOrder:
    """All or nothing: the lines are read after the lock, every update is checked against
    them, and only then one statement removes (quantity 0), changes and bumps."""
    order = await lock_order(uow, order_id)
    # Every line of the order, not only those named: the new total is checked too.
    lines = {
        line.id: line
        for line in await uow.session.scalars(select(SaleOrderItem).where(SaleOrderItem.order_id == order.id))
    }
    errors: list[DomainError] = []
    removed: list[uuid.UUID] = []
    changed: list[tuple[uuid.UUID, int, Decimal, str | None]] = []
    for i, u in enumerate(updates):
        line = lines.get(u.line_id)
        if line is None:
            errors.append(not_found("Order line", f"items.{i}.itemId"))
            continue
        if line.mode == "STANDARD" and ((u.discount or 0) != 0 or u.note):
            field = "discount" if (u.discount or 0) != 0 else "note"
            errors.append(validation("Only a CUSTOM line takes a discount or a note", f"items.{i}.{field}"))
            continue
        quantity = line.quantity if u.quantity is None else u.quantity
        if quantity == 0:
            removed.append(line.id)
            continue
        discount = line.discount if u.discount is None else u.discount
        if discount > line.unit_price * quantity:
            errors.append(
                validation(
                    "The discount cannot exceed the line's price times quantity", f"items.{i}.discount"
                )
            )
            continue
        note = line.note if u.note is None else (u.note or None)
        changed.append((line.id, quantity, discount, note))
    if errors:
        raise DomainError.many(errors)
    gone = set(removed)
    kept = {line.id: (line.quantity, line.discount) for line in lines.values() if line.id not in gone}
    kept.update({line_id: (quantity, discount) for line_id, quantity, discount, _ in changed})
    total = sum(lines[i].unit_price * quantity - discount for i, (quantity, discount) in kept.items())
    if total > money.MAX_AMOUNT:
        raise total_too_large("items")
    stmt = bump([order.id])
    if removed:
        stmt = stmt.add_cte(
            delete(items).where(items.c.order_id == order.id, items.c.id.in_(removed)).cte("removed")
        )
    if changed:
        new = values(
            column("id", UUID(as_uuid=True)),
            column("quantity", Integer),
            column("discount", Numeric(12, 2)),
            column("note", Text),
            name="new",
        ).data(changed)
        stmt = stmt.add_cte(
            items.update()
            .where(items.c.id == new.c.id)
            .values(quantity=new.c.quantity, discount=new.c.discount, note=new.c.note)
            .cte("changed")
        )
    return await write(uow, order, stmt)


async def remove_item(uow: UnitOfWork, *, order_id: uuid.UUID, line_id: uuid.UUID) -> SaleOrder:
    order = await lock_order(uow, order_id)
    gone = (
        delete(items)
        .where(items.c.order_id == order.id, items.c.id == line_id)
        .returning(items.c.id)
        .cte("gone")
    )
    # The bump happens only if the line was there: otherwise nothing changed.
    stmt = bump([order.id]).where(exists(select(gone.c.id))).add_cte(gone)
    return await write(uow, order, stmt, unchanged=not_found("Order line", "itemId"))


async def clear_items(uow: UnitOfWork, *, order_id: uuid.UUID) -> SaleOrder:
    order = await lock_order(uow, order_id)
    return await write(
        uow, order, bump([order.id]).add_cte(delete(items).where(items.c.order_id == order.id).cte("cleared"))
    )
