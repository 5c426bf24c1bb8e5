"""A shop with a bit of everything, made through the GraphQL API as clients would: online sales
with coupons and points, taxed items, refunds partial and full, POS orders merged, split, given a
staff discount, checked out, cancelled and left open, and adoption requests in every state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PRODUCT = "mutation($i: ProductInput!) { createProduct(input: $i) { product { id } errors { code field } } }"
SERVICE = "mutation($i: ServiceInput!) { createService(input: $i) { service { id } errors { code field } } }"
COUPON = "mutation($i: CouponInput!) { createCoupon(input: $i) { coupon { id } errors { code field } } }"
ADD_TO_CART = (
    "mutation($p: ID!, $q: Int!) { addToCart(productId: $p, quantity: $q) { errors { code field } } }"
)
APPLY_COUPON = "mutation($c: String!) { applyCoupon(code: $c) { errors { code field } } }"
CHECKOUT = (
    "mutation($i: CheckoutInput!) { checkout(input: $i) "
    "{ sale { id lines { id name } } errors { code field } } }"
)
REFUND = "mutation($i: RefundInput!) { refundSale(input: $i) { refund { id } errors { code field } } }"
CREATE_ORDER = (
    "mutation($i: CreateSaleOrderInput!) { createSaleOrder(input: $i) "
    "{ order { id } errors { code field } } }"
)
ADD_ITEM = (
    "mutation($i: AddSaleOrderItemInput!) { addSaleOrderItem(input: $i) "
    "{ order { id items { id name quantity } } errors { code field } } }"
)
MERGE = (
    "mutation($t: ID!, $s: [ID!]!) { mergeSaleOrders(targetOrderId: $t, sourceOrderIds: $s) "
    "{ order { id } errors { code field } } }"
)
SPLIT = (
    "mutation($o: ID!, $items: [SplitLineInput!]!) { splitSaleOrder(orderId: $o, items: $items) "
    "{ created { id } errors { code field } } }"
)
TAX_RATE = "mutation($i: TaxRateInput!) { createTaxRate(input: $i) { taxRate { id } errors { code field } } }"
DISCOUNT = (
    'mutation($o: ID!, $p: Decimal) { setSaleOrderDiscount(orderId: $o, percent: $p, reason: "regular") '
    "{ order { id } errors { code field } } }"
)
CANCEL_ORDER = "mutation($o: ID!) { cancelSaleOrder(orderId: $o) { order { id } errors { code field } } }"
CHECKOUT_ORDER = (
    "mutation($i: CheckoutSaleOrderInput!) { checkoutSaleOrder(input: $i) "
    "{ sale { id lines { id name } } errors { code field } } }"
)
OPEN_SHIFT = "mutation($i: OpenShiftInput!) { openShift(input: $i) { shift { id } errors { code field } } }"
CLOSE_SHIFT = (
    "mutation($i: CloseShiftInput!) { closeShift(input: $i) { shift { id } errors { code field } } }"
)
MOVE_CASH = (
    "mutation($i: CashMovementInput!) { recordCashMovement(input: $i) "
    "{ shift { id } errors { code field } } }"
)
PET = "mutation($i: PetInput!) { createPet(input: $i) { pet { id } errors { code field } } }"
REQUEST = (
    'mutation($p: ID!) { requestAdoption(petId: $p, message: "Please") '
    "{ request { id } errors { code field } } }"
)
APPROVE = "mutation($r: ID!) { approveAdoptionRequest(id: $r) { request { id } errors { code field } } }"
REJECT = "mutation($r: ID!) { rejectAdoptionRequest(id: $r) { request { id } errors { code field } } }"
CANCEL_REQUEST = (
    "mutation($r: ID!) { cancelAdoptionRequest(id: $r) { request { id } errors { code field } } }"
)


@dataclass
class World:
    """The ids of what was made, by name."""

    ids: dict[str, str] = field(default_factory=dict)
    lines: dict[str, dict[str, str]] = field(default_factory=dict)  # sale -> line name -> line id

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


async def _ok(gql, document: str, variables: dict, token: str) -> dict[str, Any]:
    result = await gql(document, variables, token=token)
    assert "errors" not in result, result
    payload = next(iter(result["data"].values()))
    assert payload["errors"] == [], payload
    return payload


async def build_world(gql, users) -> World:
    world = World()
    admin, admin_token = await users.signed_in("ADMIN")
    staff, staff_token = await users.signed_in("STAFF")
    customers = {name: await users.signed_in() for name in ("ann", "ben", "cy")}
    for name, (user, _) in customers.items():
        world.ids[name] = str(user.id)
    world.ids["staff"] = str(staff.id)

    async def staff_does(document, variables):
        return await _ok(gql, document, variables, staff_token)

    # The bowl and the groom are taxed; the kibble and the chew are not.
    world.ids["tax"] = (await _ok(gql, TAX_RATE, {"i": {"name": "tax", "rate": "8.25"}}, admin_token))[
        "taxRate"
    ]["id"]
    for name, price, stock in (("kibble", "12.50", 50), ("chew", "3.33", 40), ("bowl", "7.99", 20)):
        product = {"sku": name, "name": name, "category": "FOOD", "price": price, "stock": stock}
        if name == "bowl":
            product["taxRateId"] = world["tax"]
        made = await staff_does(PRODUCT, {"i": product})
        world.ids[name] = made["product"]["id"]
    groom = {"name": "groom", "price": "25.00", "durationMinutes": 30, "taxRateId": world["tax"]}
    world.ids["groom"] = (await staff_does(SERVICE, {"i": groom}))["service"]["id"]
    for code, kind, value, extra in (
        ("SAVE10", "PERCENT", "10", {"usageLimit": 5}),
        ("FIVE", "FIXED", "5.00", {"minSubtotal": "10.00"}),
    ):
        coupon = {"code": code, "kind": kind, "value": value, **extra}
        made = await _ok(gql, COUPON, {"i": coupon}, admin_token)
        world.ids[code] = made["coupon"]["id"]

    async def online_sale(name: str, customer: str, items, coupon: str | None, points: int) -> None:
        token = customers[customer][1]
        for product, quantity in items:
            await _ok(gql, ADD_TO_CART, {"p": world[product], "q": quantity}, token)
        if coupon:
            await _ok(gql, APPLY_COUPON, {"c": coupon.lower()}, token)
        paid = await _ok(gql, CHECKOUT, {"i": {"idempotencyKey": name, "redeemPoints": points}}, token)
        sale = paid["sale"]
        world.ids[name] = sale["id"]
        world.lines[name] = {line["name"]: line["id"] for line in sale["lines"]}

    # 25.00 + 9.99, 10% off: net totals share 31.49 unevenly. Then points and a FIXED coupon.
    await online_sale("online1", "ann", [("kibble", 2), ("chew", 3)], "SAVE10", 0)
    await online_sale("online2", "ann", [("bowl", 1), ("chew", 1)], "FIVE", 31)

    async def refund(name: str, sale: str, lines: list[tuple[str, int]] | None, **how) -> None:
        picked = (
            None
            if lines is None
            else [{"saleLineId": world.lines[sale][line], "quantity": quantity} for line, quantity in lines]
        )
        made = await staff_does(
            REFUND,
            {
                "i": {
                    "saleId": world[sale],
                    "lines": picked,
                    "reason": "returned",
                    "idempotencyKey": name,
                    **how,
                }
            },
        )
        world.ids[name] = made["refund"]["id"]

    await refund("refund1a", "online1", [("chew", 1)])
    await refund("refund1b", "online1", [("kibble", 1), ("chew", 1)])
    await refund("refund2", "online2", None)

    async def order(name: str, customer: str | None = None) -> None:
        customer_id = world[customer] if customer else None
        made = await staff_does(CREATE_ORDER, {"i": {"label": name, "customerId": customer_id}})
        world.ids[name] = made["order"]["id"]

    async def add(order_name: str, item: str, quantity: int, **extra) -> dict:
        item_type = "SERVICE" if item == "groom" else "PRODUCT"
        line = {
            "orderId": world[order_name],
            "itemType": item_type,
            "itemId": world[item],
            "quantity": quantity,
            **extra,
        }
        return (await staff_does(ADD_ITEM, {"i": line}))["order"]

    await order("order1", "ben")
    await add("order1", "kibble", 1)
    await add("order1", "groom", 1, mode="CUSTOM", unitPrice="20.00", discount="2.50", note="short")
    await order("order2")
    await add("order2", "chew", 2)
    await add("order2", "kibble", 1)
    await staff_does(MERGE, {"t": world["order1"], "s": [world["order2"]]})
    lines = (await add("order1", "bowl", 2))["items"]
    chew = next(line["id"] for line in lines if line["name"] == "chew")
    bowl = next(line["id"] for line in lines if line["name"] == "bowl")
    split = await staff_does(
        SPLIT,
        {"o": world["order1"], "items": [{"itemId": chew, "quantity": 1}, {"itemId": bowl, "quantity": 2}]},
    )
    world.ids["order3"] = split["created"]["id"]

    async def check_out(order_name: str, sale: str, **payment) -> None:
        made = await staff_does(
            CHECKOUT_ORDER, {"i": {"orderId": world[order_name], "idempotencyKey": sale, **payment}}
        )
        world.ids[sale] = made["sale"]["id"]
        world.lines[sale] = {line["name"]: line["id"] for line in made["sale"]["lines"]}

    opened = await staff_does(OPEN_SHIFT, {"i": {"register": "front", "openingFloat": "50.00"}})
    world.ids["shift_front"] = opened["shift"]["id"]
    await check_out(
        "order1", "pos1", paymentMethod="CASH", amountTendered="100.00", couponCode="save10", register="front"
    )
    await check_out("order3", "pos3", paymentMethod="CARD", customerId=world["ann"], redeemPoints=1)
    await refund("refund_pos1", "pos1", [("groom", 1)], register="front")
    # Three equal lines sharing 22.00 (10% staff discount, then 5.00 off): equal remainders, the
    # cent left over goes to the first; each is taxed on its share. Paid by card and cash.
    await order("order6")
    for _ in range(3):
        await add("order6", "groom", 1, mode="CUSTOM", unitPrice="10.00")
    await staff_does(DISCOUNT, {"o": world["order6"], "p": "10"})  # then the coupon, then tax
    split = [
        {"method": "CARD", "amount": "10.00", "reference": "4242"},
        {"method": "CASH", "amount": "20.00"},
    ]
    await check_out("order6", "pos6", tenders=split, couponCode="five", register="front")
    await refund("refund_pos6", "pos6", None, method="CARD")
    await staff_does(MOVE_CASH, {"i": {"shiftId": world["shift_front"], "amount": "-5.00", "reason": "milk"}})
    await staff_does(CLOSE_SHIFT, {"i": {"shiftId": world["shift_front"], "countedCash": "123.45"}})
    opened = await staff_does(OPEN_SHIFT, {"i": {"register": "front", "openingFloat": "80.00"}})
    world.ids["shift_front_2"] = opened["shift"]["id"]
    await order("order4")
    await add("order4", "bowl", 1)
    await staff_does(CANCEL_ORDER, {"o": world["order4"]})
    await order("order5", "cy")
    await add("order5", "chew", 1)

    for name in ("available", "rejected", "cancelled", "pending", "adopted"):
        pet = {"name": name, "species": "DOG", "ageMonths": 12, "adoptionFee": "50.00"}
        made = await staff_does(PET, {"i": pet})
        world.ids[f"pet_{name}"] = made["pet"]["id"]

    async def request(pet: str, customer: str) -> str:
        return (await _ok(gql, REQUEST, {"p": world[f"pet_{pet}"]}, customers[customer][1]))["request"]["id"]

    world.ids["request_rejected"] = await request("rejected", "ann")
    await staff_does(REJECT, {"r": world["request_rejected"]})
    world.ids["request_cancelled"] = await request("cancelled", "ben")
    await _ok(gql, CANCEL_REQUEST, {"r": world["request_cancelled"]}, customers["ben"][1])
    world.ids["request_pending"] = await request("pending", "cy")
    world.ids["request_turned_down"] = await request("adopted", "ben")
    await staff_does(REJECT, {"r": world["request_turned_down"]})
    world.ids["request_approved"] = await request("adopted", "ann")
    await staff_does(APPROVE, {"r": world["request_approved"]})
    return world
