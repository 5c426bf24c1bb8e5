"""Cash drawer shifts: open one per register, pay cash in and out, close with a count; what the
drawer should hold is summed from its sales, refunds and movements, and frozen at closing."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, literal, select

from app.domain import money
from app.domain.pos.models import SaleOrder
from app.domain.sales.models import Sale
from app.domain.shifts.models import register_key, register_name
from tests.commerce.shop import Shop
from tests.shifts.drawer import (
    CURRENT,
    MOVE,
    OPEN,
    PAY,
    REFUND,
    close_shift,
    open_shift,
    order_of,
    payment,
    read_shift,
)
from tests.sql_recorder import record_sql

CASH_20 = {"paymentMethod": "CASH", "amountTendered": "20.00", "register": "front"}
SHIFTS = """query($r: String, $s: ShiftStatus, $first: Int, $after: String) {
  shifts(register: $r, status: $s, first: $first, after: $after) {
    edges { node { id register status } cursor } pageInfo { hasNextPage endCursor } } }"""


def amounts(shift: dict, *fields: str) -> tuple:
    return tuple(shift[f]["amount"] if shift[f] is not None else None for f in fields)


async def test_a_counter_day_adds_up_in_the_drawer_and_the_close_freezes_it(db, pos):
    kibble = await pos.product("Kibble", "12.00", stock=20)
    trim = await pos.service("Nail trim", "7.50")
    shift = await open_shift(pos, "front", "100.00")
    assert (shift["status"], shift["register"], amounts(shift, "openingFloat", "expectedCash")) == (
        "OPEN",
        "front",
        ("100.00", "100.00"),
    )

    cash = await pos.ok(
        PAY,
        payment(await order_of(pos, kibble), paymentMethod="CASH", amountTendered="20.00", register="front"),
    )
    assert (cash["sale"]["change"]["amount"], cash["sale"]["shift"]["id"]) == ("8.00", shift["id"])
    split = await pos.ok(
        PAY,
        payment(
            await order_of(pos, kibble, trim),
            tenders=[
                {"method": "CARD", "amount": "10.00", "reference": " 4242 "},
                {"method": "CASH", "amount": "10.00"},
            ],
            register="front",
        ),
    )
    sale = split["sale"]
    assert (sale["total"]["amount"], sale["paymentMethod"], sale["amountTendered"]["amount"]) == (
        "19.50",
        "CARD",
        "20.00",
    )
    assert sale["change"]["amount"] == "0.50"
    assert sale["tenders"] == [
        {"method": "CARD", "amount": {"amount": "10.00"}, "reference": "4242"},
        {"method": "CASH", "amount": {"amount": "10.00"}, "reference": None},
    ]
    # A card sale without a register belongs to no shift.
    card = await pos.ok(PAY, payment(await order_of(pos, trim), paymentMethod="CARD"))
    assert card["sale"]["shift"] is None and card["sale"]["tenders"][0]["amount"]["amount"] == "7.50"

    refund = await pos.ok(
        REFUND,
        {
            "i": {
                "saleId": cash["sale"]["id"],
                "reason": "wrong size",
                "idempotencyKey": "r1",
                "register": "front",
            }
        },
    )
    assert (refund["refund"]["method"], refund["refund"]["shift"]["id"]) == ("CASH", shift["id"])
    retry = {"saleId": cash["sale"]["id"], "reason": "wrong size", "idempotencyKey": "r1"}
    retry["register"] = "FRONT"
    assert (await pos.ok(REFUND, {"i": retry}))["refund"]["id"] == refund["refund"]["id"]  # the same request
    paid_out = await pos.ok(MOVE, {"i": {"shiftId": shift["id"], "amount": "-4.25", "reason": "milk"}})
    await pos.ok(MOVE, {"i": {"shiftId": shift["id"], "amount": "50.00", "reason": "change from the bank"}})
    assert amounts(paid_out["shift"], "cashMovements") == ("-4.25",)

    now = await read_shift(pos, shift["id"])
    # 100 float + (12.00 + 9.50) cash sales - 12.00 refunded + 45.75 moved
    assert amounts(now, "cashSales", "cashRefunds", "cashMovements", "expectedCash") == (
        "21.50",
        "12.00",
        "45.75",
        "155.25",
    )
    assert now["salesCount"] == 2
    assert now["tenderTotals"] == [
        {"method": "CASH", "amount": {"amount": "21.50"}},
        {"method": "CARD", "amount": {"amount": "10.00"}},
    ]
    assert amounts(now, "countedCash", "overShort") == (None, None)

    closed = await close_shift(pos, shift["id"], "155.00")
    assert closed["errors"] == []
    closed = closed["shift"]
    assert (closed["status"], amounts(closed, "expectedCash", "countedCash", "overShort")) == (
        "CLOSED",
        ("155.25", "155.00", "-0.25"),
    )
    assert closed["closedBy"] == closed["openedBy"] and closed["closedAt"] is not None
    # Closed: no more cash in or out of it, and no second close.
    again = await close_shift(pos, shift["id"], "1.00")
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("SHIFT_NOT_OPEN", "shiftId")]
    late = await pos.call(MOVE, {"i": {"shiftId": shift["id"], "amount": "1.00", "reason": "late"}})
    assert [(e["code"], e["field"]) for e in late["errors"]] == [("SHIFT_NOT_OPEN", "shiftId")]
    assert (await pos.gql(CURRENT, {"r": "front"}, token=pos.token))["data"]["currentShift"] is None
    assert await read_shift(pos, shift["id"]) == closed


async def test_cash_without_an_open_shift_is_refused_and_changes_nothing(db, pos):
    shop = Shop(db)
    kibble = await pos.product("Kibble", "12.00", stock=5)
    order_id = await order_of(pos, kibble)
    no_register = await pos.call(PAY, payment(order_id, paymentMethod="CASH", amountTendered="20.00"))
    assert [(e["code"], e["field"]) for e in no_register["errors"]] == [("VALIDATION", "register")]
    closed_drawer = await pos.call(
        PAY, payment(order_id, paymentMethod="CASH", amountTendered="20.00", register="front")
    )
    assert [(e["code"], e["field"]) for e in closed_drawer["errors"]] == [("SHIFT_NOT_OPEN", "register")]
    shift = await open_shift(pos, "back")
    await close_shift(pos, shift["id"], "100.00")
    after_close = await pos.call(
        PAY, payment(order_id, tenders=[{"method": "CASH", "amount": "12.00"}], register="back")
    )
    assert [(e["code"], e["field"]) for e in after_close["errors"]] == [("SHIFT_NOT_OPEN", "register")]
    assert await shop.stock(kibble.id) == (5, 5)
    async with db.read() as session:
        assert (await session.scalars(select(Sale))).all() == []
        order = await session.get(SaleOrder, uuid.UUID(order_id))
        assert order is not None and (order.status, order.version) == ("DRAFT", 2)


@pytest.mark.parametrize(
    ("how", "error"),
    [
        ({"tenders": [{"method": "CARD", "amount": "12.01"}]}, ("VALIDATION", "tenders")),
        (
            {"tenders": [{"method": "CARD", "amount": "6.00"}, {"method": "CARD", "amount": "6.01"}]},
            ("VALIDATION", "tenders"),
        ),
        ({"tenders": [{"method": "CARD", "amount": "11.99"}]}, ("PAYMENT_INSUFFICIENT", "tenders")),
        (
            {"tenders": [{"method": "CARD", "amount": "2.00"}, {"method": "CASH", "amount": "9.99"}]},
            ("PAYMENT_INSUFFICIENT", "tenders"),
        ),
        ({"tenders": []}, ("VALIDATION", "tenders")),
        ({"tenders": [{"method": "CARD", "amount": "1.00"}] * 11}, ("VALIDATION", "tenders")),
        ({"tenders": [{"method": "ONLINE", "amount": "12.00"}]}, ("VALIDATION", "tenders.0.method")),
        ({"tenders": [{"method": "CARD", "amount": "-1.00"}]}, ("VALIDATION", "tenders.0.amount")),
        ({"tenders": [{"method": "CARD", "amount": "1.001"}]}, ("VALIDATION", "tenders.0.amount")),
        (  # beside another tender, 0.00 pays nothing yet would name the sale's method
            {"tenders": [{"method": "CASH", "amount": "0"}, {"method": "CARD", "amount": "12.00"}]},
            ("VALIDATION", "tenders.0.amount"),
        ),
        (
            {"tenders": [{"method": "CARD", "amount": "12.00", "reference": "x" * 101}]},
            ("VALIDATION", "tenders.0.reference"),
        ),
        (
            {"paymentMethod": "CARD", "tenders": [{"method": "CARD", "amount": "12.00"}]},
            ("VALIDATION", "tenders"),
        ),
        ({}, ("VALIDATION", "paymentMethod")),
        ({"paymentMethod": "CARD", "amountTendered": "20.00"}, ("VALIDATION", "amountTendered")),
        (
            {"tenders": [{"method": "CASH", "amount": "20.00"}], "amountTendered": "20.00"},
            ("VALIDATION", "amountTendered"),
        ),
        ({"paymentMethod": "CARD", "register": "r" * 51}, ("VALIDATION", "register")),
        (  # each amount fits, their sum (the sale's amount tendered) does not
            {
                "tenders": [
                    {"method": "CASH", "amount": "9999999999.99"},
                    {"method": "CASH", "amount": "1.00"},
                ]
            },
            ("VALIDATION", "tenders"),
        ),
    ],
)
async def test_tenders_that_do_not_pay_the_amount_due_exactly_are_refused(db, pos, how, error):
    kibble = await pos.product("Kibble", "12.00", stock=5)
    await open_shift(pos, "front")
    order_id = await order_of(pos, kibble)
    how.setdefault("register", "front")
    refused = await pos.call(PAY, payment(order_id, **how))
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [error], refused
    assert refused["sale"] is None
    assert (await pos.row(order_id)).status == "DRAFT"


async def test_cash_over_the_rest_is_change_and_card_exactly_the_rest_pays(db, pos):
    kibble = await pos.product("Kibble", "12.00", stock=5)
    await open_shift(pos, "front")
    exact = await pos.ok(
        PAY,
        payment(
            await order_of(pos, kibble),
            tenders=[{"method": "CARD", "amount": "12.00"}, {"method": "CASH", "amount": "5.00"}],
            register="front",
        ),
    )
    assert (exact["sale"]["change"]["amount"], exact["sale"]["amountTendered"]["amount"]) == ("5.00", "17.00")
    card_only = await pos.ok(
        PAY, payment(await order_of(pos, kibble), tenders=[{"method": "CARD", "amount": "12.00"}])
    )
    assert (card_only["sale"]["change"], card_only["sale"]["amountTendered"]) == (None, None)


async def test_one_open_shift_per_register_and_the_queries_find_them(db, pos, gql, users):
    first = await open_shift(pos, "front", "50.00")
    # One register however its name is written: spacing, letter case, full-width letters.
    for spelling in (" front ", "FRONT", "\uff46\uff52\uff4f\uff4e\uff54", "\uff26RONT"):
        again = await pos.call(OPEN, {"i": {"register": spelling, "openingFloat": "10.00"}})
        assert [(e["code"], e["field"]) for e in again["errors"]] == [("SHIFT_ALREADY_OPEN", "register")]
    back = await open_shift(pos, "back", "0")
    await close_shift(pos, first["id"], "50.00")
    second = await open_shift(pos, "front", "60.00")
    current = (await pos.gql(CURRENT, {"r": "Front"}, token=pos.token))["data"]["currentShift"]
    assert current["id"] == second["id"]
    kibble = await pos.product("Kibble", "12.00", stock=5)
    cash = {**CASH_20, "register": "FRONT"}
    sold = (await pos.ok(PAY, payment(await order_of(pos, kibble), **cash)))["sale"]
    assert sold["shift"] == {"id": second["id"], "register": "front"}

    async def listed(**variables) -> list[str]:
        result = await pos.gql(SHIFTS, variables, token=pos.token)
        return [edge["node"]["id"] for edge in result["data"]["shifts"]["edges"]]

    assert await listed() == [second["id"], back["id"], first["id"]]
    assert await listed(r="front") == [second["id"], first["id"]] == await listed(r="FRONT")
    assert await listed(s="CLOSED") == [first["id"]]
    page = (await pos.gql(SHIFTS, {"first": 2}, token=pos.token))["data"]["shifts"]
    assert page["pageInfo"]["hasNextPage"] is True
    assert await listed(after=page["pageInfo"]["endCursor"]) == [first["id"]]
    assert (await pos.gql(CURRENT, {"r": "nowhere"}, token=pos.token))["data"]["currentShift"] is None

    _, customer = await users.signed_in("CUSTOMER")
    for document, variables in ((CURRENT, {"r": "front"}), (SHIFTS, {})):
        refused = await gql(document, variables, token=customer)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = await gql(OPEN, {"i": {"register": "x", "openingFloat": "1.00"}}, token=customer)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("document", "variables", "error"),
    [
        (OPEN, {"register": "  ", "openingFloat": "1.00"}, ("VALIDATION", "register")),
        (OPEN, {"register": "front", "openingFloat": "-1.00"}, ("VALIDATION", "openingFloat")),
        (OPEN, {"register": "front", "openingFloat": "1.005"}, ("VALIDATION", "openingFloat")),
        (MOVE, {"shiftId": "nope", "amount": "1.00", "reason": "x"}, ("NOT_FOUND", "shiftId")),
        (MOVE, {"shiftId": str(uuid.uuid4()), "amount": "1.00", "reason": "x"}, ("NOT_FOUND", "shiftId")),
        (MOVE, {"shiftId": "SHIFT", "amount": "0", "reason": "x"}, ("VALIDATION", "amount")),
        (MOVE, {"shiftId": "SHIFT", "amount": "-10000000000", "reason": "x"}, ("VALIDATION", "amount")),
        (MOVE, {"shiftId": "SHIFT", "amount": "1.00", "reason": " "}, ("VALIDATION", "reason")),
        (MOVE, {"shiftId": "SHIFT", "amount": "1.00", "reason": "bank\x1b[2J"}, ("VALIDATION", "reason")),
    ],
)
async def test_bad_shift_input_is_a_clean_error(db, pos, document, variables, error):
    shift = await open_shift(pos, "front")
    if variables.get("shiftId") == "SHIFT":
        variables = {**variables, "shiftId": shift["id"]}
    refused = await pos.call(document, {"i": variables})
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [error]
    assert amounts(await read_shift(pos, shift["id"]), "cashMovements") == ("0.00",)


async def test_close_counts_a_bad_count_and_an_unknown_shift_cleanly(db, pos):
    shift = await open_shift(pos, "front")
    negative = await close_shift(pos, shift["id"], "-0.01")
    assert [(e["code"], e["field"]) for e in negative["errors"]] == [("VALIDATION", "countedCash")]
    unknown = await close_shift(pos, str(uuid.uuid4()), "1.00")
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "shiftId")]
    assert (await read_shift(pos, shift["id"]))["status"] == "OPEN"


async def test_a_pay_out_from_a_drawer_below_nothing_says_where_it_stands(pos):
    """A card sale refunded in cash leaves the drawer below its float; the refusal says so, not 0.00."""
    shift = await open_shift(pos, "front", "0.00")
    kibble = await pos.product("Kibble", "12.00", stock=5)
    card = (await pos.ok(PAY, payment(await order_of(pos, kibble), paymentMethod="CARD")))["sale"]
    refund = {"saleId": card["id"], "reason": "torn", "idempotencyKey": "r", "method": "CASH"}
    await pos.ok(REFUND, {"i": {**refund, "register": "front"}})
    refused = await pos.call(MOVE, {"i": {"shiftId": shift["id"], "amount": "-1.00", "reason": "bank"}})
    assert [(e["code"], e["field"], e["message"]) for e in refused["errors"]] == [
        ("VALIDATION", "amount", "The drawer should hold no cash to pay out (it stands at -12.00)")
    ]


async def test_movements_keep_the_drawer_between_empty_and_the_largest_amount_so_it_always_closes(db, pos):
    shift = await open_shift(pos, "front", "100.00")

    async def move(amount: str) -> dict:
        return await pos.call(MOVE, {"i": {"shiftId": shift["id"], "amount": amount, "reason": "bank"}})

    for amount in ("-100.01", "-10000.00"):
        refused = await move(amount)
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [("VALIDATION", "amount")]
        assert "(100.00)" in refused["errors"][0]["message"]
    assert (await move("-100.00"))["errors"] == []
    assert (await move(str(money.MAX_AMOUNT)))["errors"] == []
    assert [(e["code"], e["field"]) for e in (await move("0.01"))["errors"]] == [("VALIDATION", "amount")]
    assert amounts(await read_shift(pos, shift["id"]), "cashMovements", "expectedCash") == (
        str(money.MAX_AMOUNT - Decimal("100.00")),
        str(money.MAX_AMOUNT),
    )
    closed = await close_shift(pos, shift["id"], "0.00")
    assert closed["errors"] == [] and closed["shift"]["overShort"]["amount"] == str(-money.MAX_AMOUNT)


async def test_a_drawer_that_cash_sales_took_past_the_largest_amount_closes_after_pay_outs(db, pos):
    """Sales do not keep to the drawer's bounds as movements do; the close says what to do."""
    trim = await pos.service("Nail trim", "1.00")
    shift = await open_shift(pos, "front", str(money.MAX_AMOUNT))
    sold = await pos.call(
        PAY, payment(await order_of(pos, trim), paymentMethod="CASH", amountTendered="1.00", register="front")
    )
    assert sold["errors"] == []
    refused = await close_shift(pos, shift["id"], "0.00")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("VALIDATION", "shiftId")]
    assert "record a cash movement first" in refused["errors"][0]["message"]
    assert (await read_shift(pos, shift["id"]))["status"] == "OPEN"
    # Each pay-out brings the drawer back toward the largest amount, the first not yet all the way.
    for amount in ("-0.50", "-0.50"):
        paid_out = await pos.call(MOVE, {"i": {"shiftId": shift["id"], "amount": amount, "reason": "bank"}})
        assert paid_out["errors"] == [], paid_out
    closed = await close_shift(pos, shift["id"], str(money.MAX_AMOUNT))
    assert closed["errors"] == [] and closed["shift"]["overShort"]["amount"] == "0.00"


async def test_a_count_further_off_than_the_largest_amount_is_refused_on_the_count(db, pos):
    """A cash refund of a card sale can leave the drawer owing; a count far above it is refused."""
    trim = await pos.service("Big groom", "1000000.00")
    shift = await open_shift(pos, "front", "0.00")
    order = await pos.order()
    await pos.add(order["id"], trim, 999)  # 999,000,000.00
    sale = (await pos.ok(PAY, payment(order["id"], paymentMethod="CARD")))["sale"]
    refund = {
        "saleId": sale["id"],
        "reason": "wrong",
        "idempotencyKey": "r",
        "method": "CASH",
        "register": "front",
    }
    assert (await pos.call(REFUND, {"i": refund}))["errors"] == []
    refused = await close_shift(pos, shift["id"], str(money.MAX_AMOUNT))
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("VALIDATION", "countedCash")]
    closed = await close_shift(pos, shift["id"], "0.00")
    assert closed["errors"] == [] and closed["shift"]["overShort"]["amount"] == "999000000.00"


async def test_a_close_sums_the_drawer_in_one_statement_under_its_lock(db, pos):
    """Sales queue behind a close (the drawer's turn): it holds them up for as few round trips as it can."""
    kibble = await pos.product("Kibble", "12.00", stock=5)
    shift = await open_shift(pos, "front", "10.00")
    sale = (await pos.ok(PAY, payment(await order_of(pos, kibble), **CASH_20)))["sale"]
    refund = {"saleId": sale["id"], "reason": "torn", "idempotencyKey": "r", "register": "front"}
    await pos.ok(REFUND, {"i": refund})
    await pos.ok(MOVE, {"i": {"shiftId": shift["id"], "amount": "5.00", "reason": "float"}})
    with record_sql(db.engine) as sql:
        closed = await close_shift(pos, shift["id"], "15.00")
    assert closed["errors"] == [] and closed["shift"]["overShort"]["amount"] == "0.00"
    sums = [q for q in sql if "cash_movements" in q]
    assert sums and all("sale_tenders" in q and "refunds" in q and "FROM sales" in q for q in sums)
    # Under the drawer's turn: the shift FOR UPDATE, the sums, then the close's one write (7 statements
    # there before the sums were one).
    turn = next(i for i, q in enumerate(sql) if "pg_advisory_xact_lock(" in q)
    assert sql.writes()[0] - turn == 3 and sql.locks("cash_shifts") == [turn + 1]


async def test_a_customer_sees_their_sale_and_refund_but_not_the_drawer_shift_behind_them(db, pos, users):
    trim = await pos.service("Nail trim", "7.50")
    customer, token = await users.signed_in("CUSTOMER")
    await open_shift(pos, "front", "100.00")
    order = await pos.order(customer_id=str(customer.id))
    await pos.add(order["id"], trim, 1)
    how = {"paymentMethod": "CASH", "amountTendered": "10.00", "register": "front"}
    sale = (await pos.ok(PAY, payment(order["id"], **how)))["sale"]
    refund = {"saleId": sale["id"], "reason": "changed mind", "idempotencyKey": "r", "register": "front"}
    assert (await pos.call(REFUND, {"i": refund}))["errors"] == []
    document = (
        "query($id: ID!) { sale(id: $id) { number shift { register openedBy { email } } "
        "refunds { shift { register expectedCash { amount } } } } }"
    )
    mine = (await pos.gql(document, {"id": sale["id"]}, token=token))["data"]["sale"]
    assert (mine["shift"], [r["shift"] for r in mine["refunds"]]) == (None, [None])
    listed = await pos.gql("{ mySales { edges { node { shift { id } } } } }", token=token)
    assert listed["data"]["mySales"]["edges"] == [{"node": {"shift": None}}]
    staff = (await pos.gql(document, {"id": sale["id"]}, token=pos.token))["data"]["sale"]
    assert staff["shift"]["register"] == "front"
    assert [r["shift"]["register"] for r in staff["refunds"]] == ["front"]


async def test_a_register_is_one_register_to_a_retried_request_as_to_the_database(db):
    """A checkout or refund retried with its register written otherwise replays when the database
    finds the same drawer, and only then."""
    names = ["İ0", "I0", "i\u03070", "ΑΣ", "ασ", "Front 2", "FRONT  2", "ǅ", "ǆ", "ẞ", "ß"]
    async with db.sessions() as session:
        if await session.scalar(select(func.lower(literal("ÄΣ")))) != "äσ":
            pytest.skip("this database's lower() is not a UTF-8 locale's (LC_CTYPE C, or ICU)")
        lowered = [await session.scalar(select(func.lower(literal(register_name(n))))) for n in names]
    for a, lower_a in zip(names, lowered, strict=True):
        for b, lower_b in zip(names, lowered, strict=True):
            assert (register_key(a) == register_key(b)) == (lower_a == lower_b), (a, b)
