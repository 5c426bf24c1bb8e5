"""Paying for a sale order: the order row coordinates, the shared sale-recording service
takes stock, coupon and points; a double submit makes one sale; a paid order is closed."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select, update

from app.domain.coupons.models import Coupon
from app.domain.limits import MAX_SALE_LINES
from app.domain.locks import lock_row
from app.domain.pos.models import SaleOrder, SaleOrderItem
from app.domain.sales.models import Sale
from app.domain.uow import UnitOfWork
from tests.commerce.shop import Shop
from tests.pos.conftest import CREATE, SPLIT, assert_order_locked_before_any_write
from tests.races import row_lock_held, unit_held, wait_for_lock_waiters
from tests.shifts.drawer import open_shift
from tests.sql_recorder import record_sql

PAY = """mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) {
  replayed errors { code field message }
  sale { id number channel total { amount } subtotal { amount } couponDiscount { amount }
         pointsDiscount { amount } pointsEarned pointsRedeemed couponCode paymentMethod
         amountTendered { amount } change { amount } customer { id }
         lines { name quantity unitPrice { amount } discount { amount } lineTotal { amount } } } } }"""
ORDER_SALE = "query($id: ID!) { saleOrder(id: $id) { status version customer { id } sale { id number } } }"


def pay_input(
    order_id: str, method: str = "CASH", tendered: str | None = None, key: str | None = None, **extra
) -> dict:
    if method == "CASH":
        extra.setdefault("register", "front")  # the `front` fixture's drawer
    return {
        "i": {
            "orderId": order_id,
            "idempotencyKey": key or uuid.uuid4().hex,
            "paymentMethod": method,
            "amountTendered": tendered,
            **extra,
        }
    }


@pytest.fixture
async def front(pos) -> dict:
    """An OPEN shift on register `front`, for the cash payments."""
    return await open_shift(pos, "front")


async def sales_count(db) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Sale))


async def test_split_then_pay_both_in_cash_totals_change_and_stock_add_up(db, pos, front):
    shop = Shop(db)
    kibble = await pos.product("Kibble", "12.00", stock=10)
    trim = await pos.service("Nail trim", "7.50")
    order = await pos.order("Table 2")
    await pos.add(order["id"], kibble, 3)
    added = await pos.add(order["id"], trim, 2)
    kibble_line = next(i for i in added["order"]["items"] if i["name"] == "Kibble")
    split = await pos.ok(SPLIT, {"o": order["id"], "items": [{"itemId": kibble_line["id"], "quantity": 1}]})
    first, second = split["source"], split["created"]
    assert (first["total"]["amount"], second["total"]["amount"]) == ("39.00", "12.00")

    paid_first = await pos.ok(PAY, pay_input(first["id"], tendered="50.00"))
    paid_second = await pos.ok(PAY, pay_input(second["id"], tendered="20.00"))

    one, two = paid_first["sale"], paid_second["sale"]
    assert (one["channel"], one["paymentMethod"], one["total"]["amount"], one["change"]["amount"]) == (
        "POS",
        "CASH",
        "39.00",
        "11.00",
    )
    assert (two["total"]["amount"], two["amountTendered"]["amount"], two["change"]["amount"]) == (
        "12.00",
        "20.00",
        "8.00",
    )
    assert Decimal(one["total"]["amount"]) + Decimal(two["total"]["amount"]) == 3 * 12 + 2 * Decimal("7.50")
    assert sorted((line["name"], line["quantity"]) for line in one["lines"] + two["lines"]) == [
        ("Kibble", 1),
        ("Kibble", 2),
        ("Nail trim", 2),
    ]
    assert await shop.stock(kibble.id) == (7, 7)
    for order_id, sale in ((first["id"], one), (second["id"], two)):
        read = (await pos.gql(ORDER_SALE, {"id": order_id}, token=pos.token))["data"]["saleOrder"]
        assert (read["status"], read["sale"]) == ("CHECKED_OUT", {"id": sale["id"], "number": sale["number"]})


async def test_cash_below_the_total_is_payment_insufficient_and_changes_nothing(db, pos, front):
    shop = Shop(db)
    kibble = await pos.product("Kibble", "12.00", stock=5)
    order = await pos.order()
    await pos.add(order["id"], kibble, 2)
    result = await pos.call(PAY, pay_input(order["id"], tendered="23.99"))
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("PAYMENT_INSUFFICIENT", "amountTendered")]
    missing = await pos.call(PAY, pay_input(order["id"]))
    assert [(e["code"], e["field"]) for e in missing["errors"]] == [("VALIDATION", "amountTendered")]
    online = await pos.call(PAY, pay_input(order["id"], method="ONLINE"))
    assert [(e["code"], e["field"]) for e in online["errors"]] == [("VALIDATION", "paymentMethod")]
    assert await shop.stock(kibble.id) == (5, 5)
    assert await sales_count(db) == 0
    row = await pos.row(order["id"])
    assert (row.status, row.sale_id, row.version) == ("DRAFT", None, 2)


async def test_card_payment_with_customer_coupon_and_points_follows_the_shop_rules(db, pos, users):
    shop = Shop(db)
    customer, _ = await users.signed_in("CUSTOMER")
    await shop.coupon("TEN", kind="FIXED", value="10.00", usage_limit=1)
    bed = await pos.product("Dog bed", "60.00", stock=5)

    earning = await pos.order(customer_id=str(customer.id))
    await pos.add(earning["id"], bed, 1)
    first = (await pos.ok(PAY, pay_input(earning["id"], method="CARD", couponCode="ten")))["sale"]
    assert (first["subtotal"]["amount"], first["couponDiscount"]["amount"], first["total"]["amount"]) == (
        "60.00",
        "10.00",
        "50.00",
    )
    assert (first["couponCode"], first["pointsEarned"], first["customer"]["id"]) == (
        "TEN",
        50,
        str(customer.id),
    )
    assert (first["amountTendered"], first["change"]) == (None, None)
    assert await shop.points(customer.id) == (50, 50)

    # The customer is named at the counter this time; the coupon is used up.
    redeeming = await pos.order()
    await pos.add(redeeming["id"], bed, 1)
    used_up = await pos.call(PAY, pay_input(redeeming["id"], method="CARD", couponCode="TEN"))
    assert [(e["code"], e["field"]) for e in used_up["errors"]] == [
        ("COUPON_USAGE_LIMIT_REACHED", "couponCode")
    ]
    too_many = await pos.call(
        PAY, pay_input(redeeming["id"], method="CARD", customerId=str(customer.id), redeemPoints=51)
    )
    assert [(e["code"], e["field"]) for e in too_many["errors"]] == [("INSUFFICIENT_POINTS", "redeemPoints")]
    nobodys = await pos.call(PAY, pay_input(redeeming["id"], method="CARD", redeemPoints=1000))  # no customer
    assert (nobodys["sale"], [(e["code"], e["field"]) for e in nobodys["errors"]]) == (
        None,
        [("VALIDATION", "redeemPoints")],
    )
    second = (
        await pos.ok(
            PAY, pay_input(redeeming["id"], method="CARD", customerId=str(customer.id), redeemPoints=50)
        )
    )["sale"]
    assert (
        second["pointsDiscount"]["amount"],
        second["total"]["amount"],
        second["pointsRedeemed"],
        second["pointsEarned"],
    ) == ("0.50", "59.50", 50, 59)
    assert await shop.points(customer.id) == (59, 59)
    read = (await pos.gql(ORDER_SALE, {"id": redeeming["id"]}, token=pos.token))["data"]["saleOrder"]
    assert read["customer"] == {"id": str(customer.id)}
    assert await shop.stock(bed.id) == (3, 3)


async def test_short_stock_at_checkout_names_each_line_and_changes_nothing(db, pos):
    shop = Shop(db)
    kibble = await pos.product("Kibble", "12.00", stock=3)
    chew = await pos.product("Chew", "2.00", stock=1)
    order = await pos.order()
    await pos.add(order["id"], kibble, 2)
    await pos.add(order["id"], chew, 2)
    await pos.add(order["id"], kibble, 2, mode="CUSTOM", unitPrice="10.00")  # 4 kibble in two lines
    result = await pos.call(PAY, pay_input(order["id"], method="CARD"))
    assert [(e["code"], e["field"]) for e in result["errors"]] == [
        ("INSUFFICIENT_STOCK", "order.items.0"),
        ("INSUFFICIENT_STOCK", "order.items.1"),
        ("INSUFFICIENT_STOCK", "order.items.2"),
    ]
    assert result["errors"][0]["message"] == "Only 3 of Kibble left, 4 wanted"
    assert (await shop.stock(kibble.id), await shop.stock(chew.id)) == ((3, 3), (1, 1))
    assert await sales_count(db) == 0
    assert (await pos.row(order["id"])).status == "DRAFT"


async def test_empty_order_and_unknown_order_are_clean_errors(pos):
    order = await pos.order()
    empty = await pos.call(PAY, pay_input(order["id"], method="CARD"))
    assert [e["code"] for e in empty["errors"]] == ["NOTHING_TO_CHECK_OUT"]
    unknown = await pos.call(PAY, pay_input(str(uuid.uuid4()), method="CARD"))
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "orderId")]
    bad_coupon = await pos.call(PAY, pay_input(order["id"], method="CARD", couponCode="NOPE"))
    assert [(e["code"], e["field"]) for e in bad_coupon["errors"]] == [("COUPON_INVALID", "couponCode")]


async def test_double_submitted_checkout_makes_one_sale_and_every_response_carries_it(db, pos, front):
    shop = Shop(db)
    kibble = await pos.product("Kibble", "12.00", stock=10)
    order = await pos.order()
    await pos.add(order["id"], kibble, 2)
    variables = pay_input(order["id"], tendered="30.00", key="tap-tap")
    async with row_lock_held(db, SaleOrder, uuid.UUID(order["id"])):
        taps = [asyncio.create_task(pos.call(PAY, variables)) for _ in range(5)]
        # All five submissions are queued on the order row before any of them decides.
        await wait_for_lock_waiters(db, 5, table="sale_orders", racers=taps)
    results = await asyncio.gather(*taps)

    assert all(r["errors"] == [] for r in results), results
    assert len({r["sale"]["id"] for r in results}) == 1
    assert sorted(r["replayed"] for r in results) == [False, True, True, True, True]
    assert await sales_count(db) == 1
    assert await shop.stock(kibble.id) == (8, 8)
    reused = await pos.call(PAY, {"i": {**variables["i"], "amountTendered": "50.00"}})
    assert [e["code"] for e in reused["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    # The same register written otherwise is the same request: the retry replays.
    retried = await pos.call(PAY, {"i": {**variables["i"], "register": " FRONT"}})
    first_sale = results[0]["sale"]["id"]
    assert (retried["errors"], retried["replayed"], retried["sale"]["id"]) == ([], True, first_sale)
    # A fresh key on the paid order is refused, and the order takes no more items.
    again = await pos.call(PAY, pay_input(order["id"], tendered="30.00"))
    assert [e["code"] for e in again["errors"]] == ["ORDER_NOT_EDITABLE"]
    late = await pos.add(order["id"], kibble, 1)
    assert [(e["code"], e["field"]) for e in late["errors"]] == [("ORDER_NOT_EDITABLE", "orderId")]
    assert await shop.stock(kibble.id) == (8, 8)


async def test_an_add_racing_the_checkout_lands_in_the_sale_or_is_refused(db, pos):
    kibble = await pos.product("Kibble", "12.00", stock=10)
    order = await pos.order()
    await pos.add(order["id"], kibble, 1)
    async with row_lock_held(db, SaleOrder, uuid.UUID(order["id"])):
        pay = asyncio.create_task(pos.call(PAY, pay_input(order["id"], method="CARD")))
        await wait_for_lock_waiters(db, 1, table="sale_orders")
        add = asyncio.create_task(pos.add(order["id"], kibble, 2))
        await wait_for_lock_waiters(db, 2, table="sale_orders")
    paid, added = await pay, await add
    # The checkout queued first, so it wins; the add after it is refused, not lost silently.
    assert paid["errors"] == [] and [l["quantity"] for l in paid["sale"]["lines"]] == [1]
    assert [e["code"] for e in added["errors"]] == ["ORDER_NOT_EDITABLE"]
    assert sum(l.quantity for l in await pos.lines(order["id"])) == 1


async def test_a_checkout_for_a_version_another_tablet_has_changed_pays_nothing(db, pos, front):
    kibble = await pos.product("Kibble", "12.00", stock=10)
    order = await pos.order()
    seen = (await pos.add(order["id"], kibble, 1))["order"]  # what tablet A shows: 12.00
    # A 50 note for 12.00: enough for what tablet B makes it too, so only the version stops it.
    cash = pay_input(order["id"], tendered="50.00", key="pay-a", expectedVersion=seen["version"])
    async with row_lock_held(db, SaleOrder, uuid.UUID(order["id"])):
        add = asyncio.create_task(pos.add(order["id"], kibble, 2))  # tablet B, queued first
        await wait_for_lock_waiters(db, 1, table="sale_orders", racers=[add])
        pay = asyncio.create_task(pos.call(PAY, cash))
        await wait_for_lock_waiters(db, 2, table="sale_orders", racers=[add, pay])
    added, paid = await add, await pay
    assert added["errors"] == [] and added["order"]["version"] == seen["version"] + 1
    assert paid["sale"] is None
    assert [(e["code"], e["field"]) for e in paid["errors"]] == [("ORDER_CHANGED", "expectedVersion")]
    assert f"version {seen['version'] + 1}, not {seen['version']}" in paid["errors"][0]["message"]
    assert await sales_count(db) == 0
    assert (await pos.call(ORDER_SALE, {"id": order["id"]}))["status"] == "DRAFT"

    # Shown the order again (36.00 now), the cashier takes payment for what it holds.
    now = added["order"]["version"]
    again = await pos.ok(PAY, {"i": {**cash["i"], "amountTendered": "40.00", "expectedVersion": now}})
    assert (again["sale"]["total"]["amount"], again["sale"]["change"]["amount"]) == ("36.00", "4.00")
    # A repeat of that request replays its sale whatever version it names now.
    replay = await pos.call(PAY, {"i": {**cash["i"], "amountTendered": "40.00", "expectedVersion": now + 1}})
    assert (replay["errors"], replay["replayed"], replay["sale"]["id"]) == ([], True, again["sale"]["id"])


async def test_an_expected_version_below_1_is_refused_with_the_other_faults(pos):
    order = await pos.order()
    refused = await pos.call(PAY, pay_input(order["id"], method="CARD", expectedVersion=0, redeemPoints=-1))
    assert sorted((e["code"], e["field"]) for e in refused["errors"]) == [
        ("VALIDATION", "expectedVersion"),
        ("VALIDATION", "redeemPoints"),
    ]


async def test_a_counter_sale_shows_staff_the_cashier_who_took_payment(pos):
    order = await pos.order()
    await pos.add(order["id"], await pos.product("Kibble", "12.00"), 1)
    paid = await pos.ok(PAY, pay_input(order["id"], method="CARD"))
    me = (await pos.gql("{ me { email } }", token=pos.token))["data"]["me"]
    shown = await pos.gql(
        "query($id: ID!) { sale(id: $id) { createdBy { email } } }",
        {"id": paid["sale"]["id"]},
        token=pos.token,
    )
    assert shown["data"]["sale"]["createdBy"] == me


async def test_checkout_locks_the_order_before_any_write_in_constant_statements(db, pos):
    counts = []
    for n in (1, 20):
        order = await pos.order()
        for i in range(n):
            await pos.add(order["id"], await pos.product(f"Item {i}", "3.00"), 1)
        with record_sql(db.engine) as sql:
            result = await pos.call(PAY, pay_input(order["id"], method="CARD"))
        assert result["errors"] == []
        assert_order_locked_before_any_write(sql)
        products = sql.locks("products")
        assert len(products) == 1 and sql.locks("sale_orders")[0] < products[0]
        assert "ORDER BY products.id" in sql[products[0]]
        counts.append(sql.count())
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("role", ["STAFF", "ADMIN"])
async def test_only_a_customer_account_can_be_the_customer_of_a_pos_sale(db, pos, users, role):
    """Staff naming themselves (or a colleague) earned points on the sales they rang up."""
    shop = Shop(db)
    clerk, token = await users.signed_in(role)
    bed = await pos.product("Dog bed", "60.00", stock=5)
    order = await pos.order()
    await pos.add(order["id"], bed, 1)
    named_self = pay_input(order["id"], method="CARD", customerId=str(clerk.id))
    refused = await pos.call(PAY, named_self, token=token)
    assert (refused["sale"], [(e["code"], e["field"]) for e in refused["errors"]]) == (
        None,
        [("VALIDATION", "customerId")],
    )
    assert "not a customer" in refused["errors"][0]["message"]
    assert await sales_count(db) == 0 and await shop.points(clerk.id) == (0, 0)
    assert (await pos.row(order["id"])).status == "DRAFT"
    # Nor can an order be opened for them.
    made = await pos.call(CREATE, {"i": {"label": "T", "customerId": str(clerk.id)}}, token=token)
    assert (made["order"], [(e["code"], e["field"]) for e in made["errors"]]) == (
        None,
        [("VALIDATION", "customerId")],
    )
    # A customer account is fine.
    customer = await users.create("CUSTOMER")
    paid = await pos.ok(PAY, pay_input(order["id"], method="CARD", customerId=str(customer.id)), token=token)
    assert paid["sale"]["pointsEarned"] == 60 and await shop.points(customer.id) == (60, 60)


async def test_an_order_left_with_a_staff_customer_cannot_be_paid_until_a_customer_is_named(db, pos, users):
    staff = await users.create("STAFF")
    customer = await users.create("CUSTOMER")
    order = await pos.order()
    async with db.sessions() as session:  # as an order opened before the rule would be
        await session.execute(
            update(SaleOrder).where(SaleOrder.id == uuid.UUID(order["id"])).values(customer_id=staff.id)
        )
        await session.commit()
    await pos.add(order["id"], await pos.product("Bowl", "8.00"), 1)
    refused = await pos.call(PAY, pay_input(order["id"], method="CARD"))
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("VALIDATION", "customerId")]
    paid = await pos.ok(PAY, pay_input(order["id"], method="CARD", customerId=str(customer.id)))
    assert paid["sale"]["customer"] == {"id": str(customer.id)}


@pytest.mark.parametrize(("lines", "paid"), [(MAX_SALE_LINES, True), (MAX_SALE_LINES + 1, False)])
async def test_an_order_of_more_lines_than_a_sale_holds_is_refused_whole(db, pos, lines, paid):
    """A sale holds at most MAX_SALE_LINES lines (its lines go in one statement, 14 values a line,
    which must stay under PostgreSQL's 32,767 parameters): one line more is refused as VALIDATION
    before anything is written."""
    trim = await pos.service("Nail trim", "1.00")
    order = await pos.order()
    async with db.sessions.begin() as session:  # CUSTOM lines, as that many adds would leave them
        await session.execute(
            insert(SaleOrderItem),
            [
                dict(order_id=uuid.UUID(order["id"]), item_type="SERVICE", item_id=trim.id, mode="CUSTOM")
                | dict(name="Nail trim", unit_price=Decimal("1.00"), quantity=1, note=f"line {i}")
                for i in range(lines)
            ],
        )
    result = await pos.call(PAY, pay_input(order["id"], method="CARD"))
    if paid:
        assert result["errors"] == [] and result["sale"]["total"]["amount"] == f"{MAX_SALE_LINES}.00"
        return
    assert [(e["code"], e["message"]) for e in result["errors"]] == [
        ("VALIDATION", f"A sale holds at most {MAX_SALE_LINES} lines: split the order or the cart")
    ]
    assert result["sale"] is None and await sales_count(db) == 0
    assert (await pos.row(order["id"])).status == "DRAFT"


async def test_a_coupon_that_ends_while_the_checkout_waits_for_it_is_refused(db, pos):
    """The coupon's validity is judged when its lock is had, not when the checkout began: the
    coupon ends while the checkout waits for its lock, so the checkout must read the clock after."""
    shop = Shop(db)
    chew = await pos.product("Chew", "30.00", stock=5)
    coupon = await shop.coupon("SOON", ends_at=datetime.now(UTC) + timedelta(days=365))
    order = await pos.order()
    await pos.add(order["id"], chew, 1)
    holder: list[UnitOfWork] = []

    async def hold_coupon(uow: UnitOfWork) -> None:  # another checkout using it, say
        holder.append(uow)
        await lock_row(uow, Coupon, coupon.id)

    async with unit_held(db, hold_coupon):
        paying = asyncio.create_task(pos.call(PAY, pay_input(order["id"], method="CARD", couponCode="SOON")))
        await wait_for_lock_waiters(db, 1, table="coupons", racers=[paying])
        # The coupon ends now, after the checkout began, in the unit that holds it (idle, held open).
        # By this process's clock, the one the checkout judges the coupon's dates by.
        [held] = holder
        await held.session.execute(
            update(Coupon).where(Coupon.id == coupon.id).values(ends_at=datetime.now(UTC))
        )
    refused = await paying
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("COUPON_EXPIRED", "couponCode")]
    assert refused["sale"] is None and (await pos.row(order["id"])).status == "DRAFT"
    assert await sales_count(db) == 0 and await shop.stock(chew.id) == (5, 5)
    async with db.read() as session:
        assert await session.scalar(select(Coupon.times_used).where(Coupon.id == coupon.id)) == 0


async def test_an_empty_customer_coupon_or_register_is_as_if_left_out(pos, users):
    """A form's empty field: no customer on the order or the sale, no coupon, no drawer; at checkout
    the order's own customer stays."""
    kibble = await pos.product("Kibble", "12.00", stock=10)
    order = await pos.order(customer_id="")
    assert order["customer"] is None
    await pos.add(order["id"], kibble, 1)
    empty = {"customerId": "", "couponCode": "", "register": ""}
    paid = await pos.call(PAY, pay_input(order["id"], method="CARD", **empty))
    assert paid["errors"] == [], paid
    assert (paid["sale"]["customer"], paid["sale"]["couponCode"], paid["sale"]["total"]) == (
        None,
        None,
        {"amount": "12.00"},
    )
    customer, _ = await users.signed_in("CUSTOMER")
    theirs = await pos.order(customer_id=str(customer.id))
    await pos.add(theirs["id"], kibble, 1)
    paid = await pos.call(PAY, pay_input(theirs["id"], method="CARD", **empty))
    assert (paid["errors"], paid["sale"]["customer"]) == ([], {"id": str(customer.id)})
