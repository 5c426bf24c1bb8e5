"""Refunds: once per submit, never more than was sold, money and points in proportion."""

import asyncio
import uuid
from decimal import Decimal

from sqlalchemy import func, select, update

from app.domain import limits
from app.domain.accounts.models import User
from app.domain.loyalty.ledger import MAX_POINTS
from app.domain.sales.models import Refund, Sale
from app.domain.sales.recording import Payment, SaleItem, record_sale
from tests.commerce.shop import ADD, CHECKOUT, REFUND
from tests.races import row_lock_held, wait_for_lock_waiters


async def _sale(gql, users, shop, lines, *, coupon=None, redeem=0, earn_first=False):
    """A customer's completed online sale of `lines` [(product, quantity)]."""
    user, token = await users.signed_in()
    if earn_first:
        filler = await shop.product(stock=10, price="40.00")
        await gql(ADD, {"p": str(filler.id), "q": 1}, token=token)
        await gql(CHECKOUT, {"k": "earn"}, token=token)
    for product, quantity in lines:
        await gql(ADD, {"p": str(product.id), "q": quantity}, token=token)
    if coupon:
        await gql(
            "mutation($c: String!) { applyCoupon(code: $c) { errors { code } } }", {"c": coupon}, token=token
        )
    payload = (await gql(CHECKOUT, {"k": "sale", "r": redeem}, token=token))["data"]["checkout"]
    assert payload["errors"] == [], payload
    return user, payload["sale"]


async def _refund(gql, token, sale_id, key, lines=None):
    request = {"saleId": sale_id, "reason": "customer return", "idempotencyKey": key}
    if lines is not None:
        request["lines"] = lines
    return (await gql(REFUND, {"i": request}, token=token))["data"]["refundSale"]


async def test_double_submitted_refund_refunds_once_and_restocks_once(gql, users, shop, db):
    product = await shop.product(stock=10)
    _, sale = await _sale(gql, users, shop, [(product, 3)])
    _, staff = await users.signed_in("STAFF")
    async with row_lock_held(db, Sale, uuid.UUID(sale["id"])):
        taps = [asyncio.create_task(_refund(gql, staff, sale["id"], "same-key")) for _ in range(4)]
        await wait_for_lock_waiters(db, 4, table="sales", racers=taps)  # all four queued on the sale row
    results = await asyncio.gather(*taps)
    assert all(r["errors"] == [] for r in results), results
    assert {r["refund"]["id"] for r in results} == {results[0]["refund"]["id"]}
    assert sorted(r["replayed"] for r in results) == [False, True, True, True]
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Refund)) == 1
    assert await shop.stock(product.id) == (10, 10)


async def test_two_refunds_with_different_keys_cannot_exceed_the_sale(gql, users, shop, db):
    product = await shop.product(stock=10)
    _, sale = await _sale(gql, users, shop, [(product, 2)])
    _, staff = await users.signed_in("STAFF")
    line = sale["lines"][0]["id"]
    # The sale row held: the three refunds queue on it, and each counts what is left only once it
    # is theirs.
    async with row_lock_held(db, Sale, uuid.UUID(sale["id"])):
        refunds = [
            asyncio.create_task(
                _refund(gql, staff, sale["id"], f"k{i}", [{"saleLineId": line, "quantity": 2}])
            )
            for i in range(3)
        ]
        await wait_for_lock_waiters(db, 3, table="sales", racers=refunds)
    results = await asyncio.gather(*refunds)
    assert sum(1 for r in results if r["refund"]) == 1
    # Refused by the check under the lock, naming the line: not by the CHECK behind it.
    too_much = {
        "code": "REFUND_EXCEEDS_SALE",
        "field": "lines.0.quantity",
        "message": f"Only 0 of {product.name} left to refund",
    }
    assert [r["errors"] for r in results if not r["refund"]] == [[too_much]] * 2
    assert await shop.stock(product.id) == (10, 10)
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Refund)) == 1
        assert (await s.get(Sale, uuid.UUID(sale["id"]))).status == "REFUNDED"


async def test_partial_then_full_refund_returns_exactly_the_total(gql, users, shop):
    cheap, dear = await shop.product(stock=10, price="3.33"), await shop.product(stock=10, price="10.00")
    await shop.coupon("THIRD", value="33")
    user, sale = await _sale(
        gql, users, shop, [(cheap, 3), (dear, 1)], coupon="THIRD", redeem=7, earn_first=True
    )
    assert (
        sale["subtotal"]["amount"],
        sale["couponDiscount"]["amount"],
        sale["pointsDiscount"]["amount"],
        sale["total"]["amount"],
    ) == ("19.99", "6.60", "0.07", "13.32")
    _, staff = await users.signed_in("STAFF")
    cheap_line = next(l["id"] for l in sale["lines"] if l["unitPrice"]["amount"] == "3.33")
    first = await _refund(gql, staff, sale["id"], "one", [{"saleLineId": cheap_line, "quantity": 1}])
    assert first["errors"] == [] and first["refund"]["sale"]["status"] == "PARTIALLY_REFUNDED"
    rest = await _refund(gql, staff, sale["id"], "rest")
    assert rest["errors"] == [] and rest["refund"]["sale"]["status"] == "REFUNDED"
    amounts = [first["refund"]["amount"]["amount"], rest["refund"]["amount"]["amount"]]
    assert sum(map(lambda a: round(float(a) * 100), amounts)) == 1332
    # Earned points reversed and redeemed points restored in full, in proportion along the way.
    assert first["refund"]["pointsReversed"] + rest["refund"]["pointsReversed"] == sale["pointsEarned"]
    assert first["refund"]["pointsRestored"] + rest["refund"]["pointsRestored"] == 7
    balance, ledger = await shop.points(user.id)
    assert balance == ledger == 40  # what the first sale earned, untouched
    assert await shop.stock(cheap.id) == (10, 10) and await shop.stock(dear.id) == (10, 10)
    again = await _refund(gql, staff, sale["id"], "again")
    assert again["errors"][0]["code"] == "REFUND_EXCEEDS_SALE"


async def _counter_sale(shop, product, *, customer, staff, redeem: int = 0) -> None:
    """One unit of `product` sold at the counter to `customer`, paid by card after `redeem` points."""
    await shop.unit(
        lambda uow: record_sale(
            uow,
            channel="POS",
            items=[SaleItem("PRODUCT", product.id, 1)],
            customer_id=customer.id,
            coupon_id=None,
            redeem_points=redeem,
            payment=Payment("CARD"),
            by=staff.id,
        )
    )


async def test_refund_never_takes_points_below_zero(gql, users, shop):
    product = await shop.product(stock=10, price="50.00")
    user, sale = await _sale(gql, users, shop, [(product, 1)])
    staff = await users.create("STAFF")
    await _counter_sale(shop, product, customer=user, staff=staff, redeem=50)
    assert await shop.points(user.id) == (49, 49)
    refund = await _refund(gql, users.token(staff), sale["id"], "r")
    assert refund["errors"] == [] and refund["refund"]["pointsReversed"] == 49
    assert await shop.points(user.id) == (0, 0)


async def test_points_an_earlier_refund_could_not_take_back_stay_forgiven(gql, users, shop):
    """Each refund takes back its own share of the points earned, never more: points the customer
    earned since on another sale are not taken for what an earlier refund left (balance spent)."""
    product = await shop.product(stock=10, price="50.00")
    user, sale = await _sale(gql, users, shop, [(product, 2)])
    assert sale["pointsEarned"] == 100
    staff = await users.create("STAFF")

    await _counter_sale(
        shop, await shop.product(stock=10, price="1.00"), customer=user, staff=staff, redeem=100
    )  # every point spent: 1.00 - 1.00, nothing earned
    assert await shop.points(user.id) == (0, 0)
    line = [{"saleLineId": sale["lines"][0]["id"], "quantity": 1}]
    first = await _refund(gql, users.token(staff), sale["id"], "first-unit", line)
    assert first["errors"] == [] and first["refund"]["pointsReversed"] == 0  # its 50: forgiven
    await _counter_sale(
        shop, await shop.product(stock=10, price="80.00"), customer=user, staff=staff
    )  # 80 points earned on another sale
    assert await shop.points(user.id) == (80, 80)
    second = await _refund(gql, users.token(staff), sale["id"], "second-unit", line)
    assert second["errors"] == [] and second["refund"]["pointsReversed"] == 50  # its own share
    assert await shop.points(user.id) == (30, 30)


async def test_a_refund_that_would_take_points_past_the_largest_balance_is_refused(gql, users, shop, db):
    product = await shop.product(stock=10, price="0.50")
    user, sale = await _sale(gql, users, shop, [(product, 1)], redeem=40, earn_first=True)
    assert (sale["pointsRedeemed"], sale["pointsEarned"]) == (40, 0)
    near = MAX_POINTS - 10  # set by hand: restoring the 40 points would pass the INTEGER column
    async with db.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == user.id).values(loyalty_points=near))
    staff = await users.create("STAFF")
    refund = await _refund(gql, users.token(staff), sale["id"], "r")
    assert refund["errors"] == [
        {
            "code": "VALIDATION",
            "field": None,
            "message": f"This refund would take the customer's points past {MAX_POINTS}",
        }
    ]
    assert (await shop.points(user.id))[0] == near
    assert await shop.stock(product.id) == (9, 9)


async def test_a_sale_is_refunded_only_once_every_line_is_even_a_free_one(gql, users, shop):
    paid, free = await shop.product(stock=10, price="20.00"), await shop.product(stock=10, price="5.00")
    staff = await users.create("STAFF")
    token = users.token(staff)
    items = [SaleItem("PRODUCT", paid.id, 1), SaleItem("PRODUCT", free.id, 1, discount=Decimal("5.00"))]
    sale = await shop.unit(
        lambda uow: record_sale(
            uow,
            channel="POS",
            items=items,
            customer_id=None,
            coupon_id=None,
            redeem_points=0,
            payment=Payment("CARD"),
            by=staff.id,
        )
    )
    lines = (
        await gql(
            "query($id: ID!) { sale(id: $id) { lines { id lineTotal { amount } } } }",
            {"id": str(sale.id)},
            token=token,
        )
    )["data"]["sale"]["lines"]
    assert [l["lineTotal"]["amount"] for l in lines] == ["20.00", "0.00"]
    # Every cent of the sale comes back with the paid line, yet the free line is still unrefunded.
    first = await _refund(gql, token, str(sale.id), "paid", [{"saleLineId": lines[0]["id"], "quantity": 1}])
    assert (first["refund"]["amount"]["amount"], first["refund"]["sale"]["status"]) == (
        "20.00",
        "PARTIALLY_REFUNDED",
    )
    rest = await _refund(gql, token, str(sale.id), "rest")
    assert (rest["refund"]["amount"]["amount"], rest["refund"]["sale"]["status"]) == ("0.00", "REFUNDED")
    assert await shop.stock(paid.id) == (10, 10) and await shop.stock(free.id) == (10, 10)


async def test_refund_input_is_checked(gql, users, shop):
    product = await shop.product(stock=10)
    customer, sale = await _sale(gql, users, shop, [(product, 2)])
    _, staff = await users.signed_in("STAFF")
    line = sale["lines"][0]["id"]
    bad_quantity = await _refund(gql, staff, sale["id"], "a", [{"saleLineId": line, "quantity": 0}])
    assert [(e["code"], e["field"]) for e in bad_quantity["errors"]] == [("VALIDATION", "lines.0.quantity")]
    too_many = await _refund(gql, staff, sale["id"], "b", [{"saleLineId": line, "quantity": 3}])
    assert [(e["code"], e["field"]) for e in too_many["errors"]] == [
        ("REFUND_EXCEEDS_SALE", "lines.0.quantity")
    ]
    unknown = await _refund(gql, staff, "7b7e2c52-3d6b-4a4e-9c6e-3f2f7f1f0c11", "c")
    assert unknown["errors"][0]["code"] == "NOT_FOUND"
    other = await _refund(gql, staff, sale["id"], "a", [{"saleLineId": line, "quantity": 1}])
    assert other["errors"] == []
    reused = await _refund(gql, staff, sale["id"], "a", [{"saleLineId": line, "quantity": 1}])
    assert reused["replayed"] is True
    different = await _refund(gql, staff, sale["id"], "a")
    assert different["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await shop.stock(product.id) == (9, 9)
    as_customer = await gql(
        REFUND,
        {"i": {"saleId": sale["id"], "reason": "x", "idempotencyKey": "z"}},
        token=users.token(customer),
    )
    assert as_customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_refund_naming_a_thousand_lines_is_refused_on_the_list(gql, users, shop):
    product = await shop.product(stock=10)
    _, sale = await _sale(gql, users, shop, [(product, 2)])
    _, staff = await users.signed_in("STAFF")
    lines = [{"saleLineId": sale["lines"][0]["id"], "quantity": 1}] * 1_000
    payload = await _refund(gql, staff, sale["id"], "long", lines)
    assert (payload["refund"], [(e["code"], e["field"]) for e in payload["errors"]]) == (
        None,
        [("VALIDATION", "lines")],
    )
    assert await shop.stock(product.id) == (8, 8)
    # At the cap, each line is checked: the second unit is one more than was sold.
    at_cap = await _refund(gql, staff, sale["id"], "at-cap", lines[: limits.MAX_LINES])
    assert [(e["code"], e["field"]) for e in at_cap["errors"]] == [
        ("REFUND_EXCEEDS_SALE", "lines.2.quantity")
    ]


async def test_staff_see_who_recorded_a_sale_and_its_refund_the_customer_does_not(gql, users, shop):
    product = await shop.product(stock=10)
    customer, sale = await _sale(gql, users, shop, [(product, 2)])
    _, staff = await users.signed_in("STAFF", email="clerk@example.com")
    assert (await _refund(gql, staff, sale["id"], "back", None))["errors"] == []
    shown = "query($id: ID!) { sale(id: $id) { createdBy { email } refunds { createdBy { email role } } } }"
    seen = (await gql(shown, {"id": sale["id"]}, token=staff))["data"]["sale"]
    assert seen == {
        "createdBy": {"email": customer.email},  # an online sale is recorded by its customer
        "refunds": [{"createdBy": {"email": "clerk@example.com", "role": "STAFF"}}],
    }
    login = f'mutation {{ login(email: "{customer.email}", password: "correct horse battery") {{ token }} }}'
    own = (await gql(login))["data"]["login"]["token"]
    mine = (await gql(shown, {"id": sale["id"]}, token=own))["data"]["sale"]
    assert mine == {"createdBy": None, "refunds": [{"createdBy": None}]}


async def test_a_refund_and_a_checkout_of_one_customer_both_keep_their_points(gql, users, shop, db):
    """Both write the customer's balance: the refund takes back what its sale earned while a new
    sale redeems and earns. Queued on the customer's row, each sees the other's change."""
    product = await shop.product(stock=10, price="50.00")
    customer, sale = await _sale(gql, users, shop, [(product, 1)])  # earns 50
    _, staff = await users.signed_in("STAFF")
    token = users.token(customer)
    await gql(ADD, {"p": str((await shop.product(price="20.00")).id), "q": 1}, token=token)
    async with row_lock_held(db, User, customer.id):
        checkout = asyncio.create_task(gql(CHECKOUT, {"k": "second", "r": 10}, token=token))
        await wait_for_lock_waiters(db, 1, table="users", racers=[checkout])
        refund = asyncio.create_task(_refund(gql, staff, sale["id"], "back"))
        await wait_for_lock_waiters(db, 2, table="users", racers=[checkout, refund])
    second = (await checkout)["data"]["checkout"]
    assert second["errors"] == [] and (await refund)["errors"] == []
    assert (second["sale"]["pointsRedeemed"], second["sale"]["pointsEarned"]) == (10, 19)  # 19.90 paid
    assert await shop.points(customer.id) == (50 - 10 + 19 - 50, 50 - 10 + 19 - 50)
