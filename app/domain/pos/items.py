"""Lines of a sale order: add (STANDARD merges, CUSTOM never does), bulk update, remove,
clear. Each opens with the order-row lock and writes in one statement that also bumps
the order's version; an add's statement reads its item's name and price itself (a CUSTOM line
with a discount reads its item before the lock, to check the discount against the price)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    Numeric,
    Row,
    ScalarSelect,
    Select,
    Text,
    bindparam,
    case,
    cast,
    column,
    delete,
    exists,
    func,
    literal,
    literal_column,
    select,
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
from app.domain.locks import lock_free_values, lock_values
from app.domain.pos import live, rules
from app.domain.pos.models import ITEM_TYPES, STANDARD_LINE, SaleOrder, SaleOrderItem
from app.domain.pos.orders import bump, lock_order, not_editable, orders, write
from app.domain.statements import run_built
from app.domain.taxes.models import TaxRate
from app.domain.uow import UnitOfWork

items = SaleOrderItem.__table__

SELLABLE: dict[str, type[Product | Service]] = {"PRODUCT": Product, "SERVICE": Service}
T = TypeVar("T")


@dataclass(frozen=True)
class LineFields:
    """What a line of a sale order holds, besides where it is."""

    item_type: str
    item_id: uuid.UUID
    mode: str
    name: str
    unit_price: Decimal
    quantity: int
    discount: Decimal
    note: str | None


@dataclass(frozen=True)
class NewLine(LineFields):
    """An add, priced: the line it makes or grows on its order."""

    order_id: uuid.UUID


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


def scanned_sku(*, item_type: str, item_id: str | None, sku: str | None) -> str | None:
    """The SKU to find the product by, or None when itemId names the item: one of the two, and a
    SKU for a product only."""
    if sku is None:
        if item_id is None:
            raise validation("Send the item's itemId, or a product's sku", "itemId")
        return None
    if item_id is not None:
        raise validation("Send itemId or sku, not both", "sku")
    if item_type != "PRODUCT":
        raise validation("Only a product has a SKU: send the service's itemId", "sku")
    return sku


async def product_id_by_sku(session: AsyncSession, sku: str) -> str:
    """The id of the product for sale a scanned SKU names, in any letter case; NOT_FOUND otherwise."""
    found = await session.scalar(
        select(Product.id).where(Product.sku == fields.code_key(sku), Product.active.is_(True))
    )
    if found is None:
        raise DomainError("NOT_FOUND", "No product for sale has this SKU", "sku")
    return str(found)


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
        item_id=lambda: parse_id(item_id, "itemId", "Service" if item_type == "SERVICE" else "Product"),
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


async def priced(session: AsyncSession, lines: Sequence[CheckedLine]) -> list[NewLine | CheckedLine]:
    """The lines, those with a discount priced: their items' names and prices read (active items
    only) in one Core statement per item type however many, and the discount checked against the
    line's price. The others go as they are: the add statement reads their item itself."""
    wanted: dict[str, set[uuid.UUID]] = defaultdict(set)
    for line in lines:
        if line.discount:
            wanted[line.item_type].add(line.item_id)
    sellable: dict[tuple[str, uuid.UUID], Any] = {}  # (type, id): (id, name, price)
    for item_type, ids in wanted.items():
        model = SELLABLE[item_type]
        found = await session.execute(
            select(model.id, model.name, model.price).where(model.id.in_(ids), model.active.is_(True))
        )
        sellable.update({(item_type, row.id): row for row in found})
    return [
        _priced(line, sellable.get((line.item_type, line.item_id))) if line.discount else line
        for line in lines
    ]


def _priced(line: CheckedLine, item: Any) -> NewLine:
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
    # And the lines themselves as this add left them, so the answer shows one state of the order.
    lines: list[LineState]


@dataclass(frozen=True)
class LineState(LineFields):
    """A line of an order as an add left it (the fields a SaleOrderItem answers)."""

    id: uuid.UUID


def _is_final(error: Exception) -> bool:
    """A batch's failure that each add alone would meet too: the lock stayed busy through every
    retry, or the database went away."""
    busy = isinstance(error, DomainError) and error.code == Code.BUSY
    return busy or isinstance(error, DatabaseUnavailable)


# Adds to one order that arrive while another add to it runs in this process are taken together.
_adds: Coalescer[uuid.UUID, CheckedLine, ChangedOrder] = Coalescer(final=_is_final, shared_fate=True)
# And those batches, for different orders, that are ready while another runs go in one unit, which
# holds at most MAX_BATCH adds in all.
_orders: Coalescer[None, list[CheckedLine], list[ChangedOrder] | None] = Coalescer(final=_is_final, size=len)


class Runs(Protocol):
    """Runs a unit of work (the API's: its lock timeout, retries and COMMIT)."""

    def __call__(self, work: Callable[[UnitOfWork], Awaitable[T]], /) -> Awaitable[T]: ...


async def add(line: CheckedLine, run: Runs) -> ChangedOrder:
    """The add as the API runs it (app/domain/coalescing.py): with the adds to the same order that
    queue behind one in flight, in one unit of work that `run` runs; that unit also takes the
    adds to other orders that are ready at the same time, unless their order is locked elsewhere."""

    async def together(batches: list[list[CheckedLine]]) -> list[list[ChangedOrder] | None]:
        metrics.ORDER_ADD_UNIT.observe(len(batches))
        return await run(lambda uow: add_to_orders(uow, batches))

    async def batch(lines: list[CheckedLine]) -> list[ChangedOrder]:
        metrics.ORDER_ADD_BATCH.observe(len(lines))
        changed = await _orders.submit(None, lines, together)
        # Its order was locked elsewhere: its own unit waits for the lock.
        return changed if changed is not None else await run(lambda uow: add_checked(uow, lines))

    return await _adds.submit(line.order_id, line, batch)


def adds_waiting(order_id: uuid.UUID) -> int:
    """Adds to the order waiting in this process for the next batch (the tests wait on it to force
    a batch)."""
    return _adds.waiting(order_id)


def batches_waiting() -> int:
    """Batches of adds (one order's each) waiting in this process for the next unit."""
    return _orders.waiting(None)


async def add_checked(uow: UnitOfWork, lines: Sequence[CheckedLine]) -> list[ChangedOrder]:
    """Adds to one order in one unit, on the primary: the order lock (waited for), then every add
    in one statement, each answering as if it ran alone (its own version and amounts). A line with
    a discount has it checked against the price first, so it reads its item before the lock."""
    assert len({line.order_id for line in lines}) == 1
    ready = await priced(uow.session, lines)
    await lock_draft_order(uow, lines[0].order_id)
    return await _add_all(uow, ready)


async def add_to_orders(uow: UnitOfWork, batches: list[list[CheckedLine]]) -> list[list[ChangedOrder] | None]:
    """Batches of adds to different orders in one unit that never waits for a lock: the orders no
    other transaction holds are locked in one statement (SKIP LOCKED) and take their adds in one
    statement. None for a batch whose order was held elsewhere, is not DRAFT or is not there: it
    runs on its own (add_checked), where it waits for the lock or meets its error."""
    ready = iter(await priced(uow.session, [line for lines in batches for line in lines]))
    batches_ready = [[next(ready) for _ in lines] for lines in batches]
    held = await lock_free_values(
        uow, orders, [lines[0].order_id for lines in batches_ready], orders.c.id, orders.c.status
    )
    drafts = {order.id for order in held if order.status == "DRAFT"}
    taken = [line for lines in batches_ready if lines[0].order_id in drafts for line in lines]
    answers = iter(await _add_all(uow, taken) if taken else [])
    return [
        [next(answers) for _ in lines] if lines[0].order_id in drafts else None for lines in batches_ready
    ]


class BatchRefused(Exception):
    """The adds of a batch, one statement, wrote nothing: one of them was refused. Never a
    client's answer: the coalescer runs each add again alone, and that add names its error."""


async def _add_all(uow: UnitOfWork, lines: Sequence[NewLine | CheckedLine]) -> list[ChangedOrder]:
    """Adds on their orders, already locked, in one statement. If it writes nothing (an item
    unknown, a total past the limit), a lone add reads why (one more statement, on this path only);
    a batch fails whole at once, holding its locks no longer, and each add runs again alone."""
    rows = (await run_built(uow.session, ADD_LINES, **_batch_params(lines))).all()
    if rows:
        return [_changed(row) for row in rows]
    if len(lines) > 1:
        raise BatchRefused()
    line = lines[0]
    model = SELLABLE[line.item_type]
    # The order is locked, so its lines are as the statement saw them: if the add fits them, the
    # item was what the statement refused (even if it has been brought back since). Priced as the
    # statement prices it: a STANDARD add grows its item's line at that line's price.
    order_id = literal(line.order_id, UUID(as_uuid=True))
    grown = select(items.c.unit_price).where(
        items.c.order_id == order_id,
        items.c.item_type == line.item_type,
        items.c.item_id == line.item_id,
        items.c.mode == "STANDARD",
    )
    price = func.coalesce(
        grown.scalar_subquery() if line.mode == "STANDARD" else None, line.unit_price, model.price
    )
    fits = order_total(order_id) + price * line.quantity - line.discount
    found = await uow.session.execute(
        select(fits <= money.MAX_AMOUNT).where(model.id == line.item_id, model.active.is_(True))
    )
    if found.scalar_one_or_none() is not False:
        raise not_found("Product" if line.item_type == "PRODUCT" else "Service", "itemId")
    raise total_too_large()


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


def order_total(order_id: ColumnElement[uuid.UUID], lines: FromClause = items) -> ScalarSelect[Any]:
    """What the order's lines add up to (price x quantity - discount), as a subquery."""
    return (
        select(func.coalesce(func.sum(lines.c.unit_price * lines.c.quantity - lines.c.discount), 0))
        .where(lines.c.order_id == order_id)
        .scalar_subquery()
    )


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


# What a line shows besides its amounts, carried through the add statement to its answer.
SHOWN = ("item_type", "item_id", "mode", "name", "note")

# The columns of a batch of adds, one array each, in the order the adds arrived.
BATCH_COLUMNS: dict[str, TypeEngine[Any]] = {
    "order_id": UUID(as_uuid=True),
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
    params = [_params(line, _name(line), line.unit_price) | {"new_order_id": line.order_id} for line in lines]
    return {f"new_{name}": [p[f"new_{name}"] for p in params] for name in BATCH_COLUMNS}


def _add_lines_statement() -> Select[Any]:
    """Adds to one or several orders in one statement, each as if it ran alone in turn: the lines
    go in (STANDARD adds of one item to one order grow one line by their sum), each order's version
    goes up by one per add to it, and one row comes back per add, in order, with its own version
    and the amounts it left (its order's lines before the batch and those of its order's adds up to
    it) and its own NOTIFY. Only if every item is active and every order's total stays within what
    a sale can record; otherwise nothing is written and no row comes back."""
    arrays: dict[str, ColumnElement[Any]] = {
        name: cast(bindparam(f"new_{name}"), ARRAY(kind)) for name, kind in BATCH_COLUMNS.items()
    }
    # One array read through a subquery hides from the planner how many adds there are, so it keeps
    # one generic plan for every batch size instead of planning each single add anew, with the
    # order locked (about 0.8 ms a time; docs/performance.md).
    arrays["order_id"] = select(arrays["order_id"]).scalar_subquery()
    adds = (
        func.unnest(*arrays.values())
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

    def standard(line: FromClause) -> ColumnElement[bool]:
        return line.c.mode == literal_column("'STANDARD'")

    def line_key(line: FromClause) -> ColumnElement[str]:
        """A STANDARD line is its item's in its order; a CUSTOM line is its own."""
        item = cast(line.c.order_id, Text) + "/" + line.c.item_type + "/" + cast(line.c.item_id, Text)
        return case((standard(line), item), else_=cast(line.c.id, Text))

    before = items.alias("before")
    grown = (
        select(before.c.unit_price)
        .where(
            before.c.order_id == adds.c.order_id,
            before.c.item_type == adds.c.item_type,
            before.c.item_id == adds.c.item_id,
            standard(before),
            standard(adds),
        )
        .scalar_subquery()
    )
    priced = select(
        adds,
        func.coalesce(adds.c.name, catalog("name")).label("found_name"),
        func.coalesce(adds.c.unit_price, catalog("price")).label("new_price"),
        grown.label("grown_price"),
    ).cte("priced")
    key = line_key(priced)
    keyed = select(
        *(priced.c[c] for c in ("n", "order_id", "id", "item_type", "item_id", "mode", "quantity")),
        *(priced.c[c] for c in ("discount", "note", "new_price")),
        priced.c.found_name.label("name"),
        func.coalesce(priced.c.grown_price, priced.c.new_price).label("unit_price"),
        priced.c.grown_price.is_not(None).label("grows"),
        key.label("key"),
        func.min(priced.c.n).over(partition_by=key).label("first"),
        func.sum(priced.c.quantity).over(partition_by=key).label("key_quantity"),
        func.row_number().over(partition_by=priced.c.order_id, order_by=priced.c.n).label("rank"),
    ).cte("keyed")
    added = keyed.c.quantity * keyed.c.unit_price - keyed.c.discount
    per_order = (
        select(
            keyed.c.order_id,
            func.count().label("adds"),
            func.bool_and(keyed.c.name.is_not(None) & keyed.c.new_price.is_not(None)).label("found"),
            (order_total(keyed.c.order_id) + func.sum(added) <= money.MAX_AMOUNT).label("fits"),
        )
        .group_by(keyed.c.order_id)
        .cte("per_order")
    )
    ok = select(func.bool_and(per_order.c.found & per_order.c.fits)).scalar_subquery()
    first = keyed.c.n == keyed.c.first
    columns = (
        "order_id",
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
    insert_lines = insert(items).from_select(
        columns,
        select(*(keyed.c.key_quantity if c == "quantity" else keyed.c[c] for c in columns)).where(first, ok),
    )
    upsert = insert_lines.on_conflict_do_update(
        index_elements=[items.c.order_id, items.c.item_type, items.c.item_id],
        index_where=STANDARD_LINE,
        set_={"quantity": items.c.quantity + insert_lines.excluded.quantity},
    ).cte("upserted")
    # The orders' lines after the batch: those before it, and those it creates (from their first add).
    lines = union_all(
        select(
            *(before.c[c] for c in ("order_id", "id", "created_at", "unit_price", "quantity", "discount")),
            *(before.c[c] for c in SHOWN),
            line_key(before).label("key"),
            literal_column("0").label("first"),
        ).where(before.c.order_id.in_(select(per_order.c.order_id))),
        select(
            keyed.c.order_id,
            keyed.c.id,
            func.now(),
            keyed.c.unit_price,
            literal_column("0"),
            keyed.c.discount,
            *(keyed.c[c] for c in SHOWN),
            keyed.c.key,
            keyed.c.first,
        ).where(first, keyed.c.grows.is_(False)),
    ).subquery("lines")
    # Materialized: each line's rate is looked up once, not once for every add that lists it.
    rated = select(lines, _charged_rate(lines).label("rate")).cte("rated").prefix_with("MATERIALIZED")
    # Each line of an add's order as that add left it: there once its first add is in, grown by
    # the adds up to it.
    step, upto = keyed.alias("step"), keyed.alias("upto")
    shown = (
        *(step.c.n, step.c.order_id, step.c.rank, rated.c.created_at, rated.c.id, rated.c.unit_price),
        *(rated.c[c] for c in SHOWN),
    )
    states = (
        select(
            *shown,
            rated.c.discount,
            rated.c.rate,
            (rated.c.quantity + func.coalesce(func.sum(upto.c.quantity), 0)).label("quantity"),
        )
        .select_from(
            step.join(rated, (rated.c.order_id == step.c.order_id) & (rated.c.first <= step.c.n)).outerjoin(
                upto, (upto.c.key == rated.c.key) & (upto.c.n <= step.c.n)
            )
        )
        .group_by(*shown, rated.c.discount, rated.c.rate, rated.c.quantity)
        .cte("states")
    )
    listed = (states.c.created_at, states.c.id)
    amounts = (
        select(
            states.c.n,
            states.c.order_id,
            states.c.rank,
            func.sum(states.c.unit_price * states.c.quantity).label("subtotal"),
            func.array_agg(
                aggregate_order_by(states.c.unit_price * states.c.quantity - states.c.discount, *listed)
            ).label("line_totals"),
            func.array_agg(aggregate_order_by(states.c.rate, *listed)).label("rates"),
            *(
                func.array_agg(aggregate_order_by(states.c[c], *listed)).label(f"line_{c}s")
                for c in ("id", *SHOWN, "unit_price", "quantity", "discount")
            ),
        )
        .group_by(states.c.n, states.c.order_id, states.c.rank)
        .cte("amounts")
    )
    bumped = (
        bump(per_order.c.order_id)
        .values(version=orders.c.version + per_order.c.adds)
        .where(ok)
        .add_cte(upsert)
        .returning(orders.c.number, orders.c.created_at, orders.c.label, per_order.c.adds)
        .cte("bumped")
    )
    version = (bumped.c.version - bumped.c.adds + amounts.c.rank).label("version")
    return (
        select(
            *(bumped.c[c.name] for c in bumped.c if c.name not in ("version", "adds")),
            version,
            amounts.c.subtotal,
            amounts.c.line_totals,
            amounts.c.rates,
            *(amounts.c[f"line_{c}s"] for c in LineState.__dataclass_fields__),
            live.notify(bumped.c.id, version),
        )
        .select_from(bumped.join(amounts, amounts.c.order_id == bumped.c.id))
        .order_by(amounts.c.n)
    )


ADD_LINES = _add_lines_statement()


def total_too_large(field: str = "quantity") -> DomainError:
    return validation(f"An order comes to at most {money.MAX_AMOUNT}", field)


class Locked(Protocol):
    id: uuid.UUID


async def add_line(uow: UnitOfWork, order: Locked, line: NewLine) -> ChangedOrder:
    """The add on an order already locked: one statement (upsert, bump, NOTIFY), nothing after."""
    assert line.order_id == order.id
    [changed] = await _add_all(uow, [line])
    return changed


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


def _changed(row: Row[Any]) -> ChangedOrder:
    names = list(LineState.__dataclass_fields__)
    columns = [getattr(row, f"line_{name}s") for name in names]
    lines = [LineState(**dict(zip(names, values, strict=True))) for values in zip(*columns, strict=True)]
    given = (name for name in ChangedOrder.__dataclass_fields__ if name != "lines")
    return ChangedOrder(**{name: getattr(row, name) for name in given}, lines=lines)


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
            if quantity is None and discount is None and note is None:  # else a new version for nothing
                raise validation("Give the line a quantity, a discount or a note to change", path)
        except DomainError as error:
            errors.extend(error.all())
            continue
        seen.add(parts["line_id"])
        prepared.append(LineUpdate(**parts))
    if errors:
        raise DomainError.many(errors)
    return prepared


async def update_items(
    uow: UnitOfWork, *, order_id: uuid.UUID, updates: list[LineUpdate], expected: int | None = None
) -> SaleOrder:
    """All or nothing: the lines are read after the lock, every update is checked against
    them, and only then one statement removes (quantity 0), changes and bumps. Given the
    `expected` version, only if no other change came since (quantities are set, not added)."""
    order = await lock_order(uow, order_id, expected=expected)
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
            # Blame what the caller sent: a smaller quantity alone can push the kept discount over.
            field, message = (
                ("discount", "The discount cannot exceed the line's price times quantity")
                if u.discount is not None
                else ("quantity", f"The line's discount of {discount} exceeds its price times this quantity")
            )
            errors.append(validation(message, f"items.{i}.{field}"))
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
