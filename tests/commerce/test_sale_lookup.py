"""Finding a sale at the counter: by the number on its receipt, or among one customer's sales."""

from tests.commerce.shop import ADD, CHECKOUT

BY_NUMBER = "query($n: String!) { saleByNumber(number: $n) { id number customer { email } } }"
SALES = """query($c: ID, $ch: SaleChannel) {
  sales(customerId: $c, channel: $ch) { edges { node { number } } pageInfo { hasNextPage } } }"""
TOO_MANY = "query($c: ID) { sales(customerId: $c, first: 101) { edges { cursor } } }"


async def buy(gql, shop, token: str, key: str) -> dict:
    product = await shop.product(price="4.00", stock=5)
    await gql(ADD, {"p": str(product.id), "q": 1}, token=token)
    paid = (await gql(CHECKOUT, {"k": key}, token=token))["data"]["checkout"]
    assert paid["errors"] == []
    return paid["sale"]


async def test_a_receipt_number_finds_its_sale_for_staff_and_for_its_customer_only(gql, users, shop):
    ann, ann_token = await users.signed_in()
    _, bob_token = await users.signed_in()
    _, staff = await users.signed_in("STAFF")
    sale = await buy(gql, shop, ann_token, "a")
    assert sale["number"] == "S-000001"

    found = {"id": sale["id"], "number": "S-000001", "customer": {"email": ann.email}}
    for typed in ("S-000001", " s-000001 ", "ｓ－０００００１"):  # typed, with spaces, full-width
        assert (await gql(BY_NUMBER, {"n": typed}, token=staff))["data"]["saleByNumber"] == found
    assert (await gql(BY_NUMBER, {"n": "S-000001"}, token=ann_token))["data"]["saleByNumber"] == found
    for number, token in (("S-000001", bob_token), ("S-000002", staff), ("", staff), ("x" * 500, staff)):
        assert (await gql(BY_NUMBER, {"n": number}, token=token))["data"]["saleByNumber"] is None
    anonymous = await gql(BY_NUMBER, {"n": "S-000001"})
    assert anonymous["data"] == {"saleByNumber": None}
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_sales_filtered_by_customer_are_that_customers_only(gql, users, shop):
    ann, ann_token = await users.signed_in()
    bob, bob_token = await users.signed_in()
    _, staff = await users.signed_in("STAFF")
    for token, key in ((ann_token, "a1"), (bob_token, "b1"), (ann_token, "a2")):
        await buy(gql, shop, token, key)

    def numbers(result: dict) -> list[str]:
        return [edge["node"]["number"] for edge in result["data"]["sales"]["edges"]]

    assert numbers(await gql(SALES, {"c": str(ann.id)}, token=staff)) == ["S-000003", "S-000001"]
    assert numbers(await gql(SALES, {"c": str(bob.id)}, token=staff)) == ["S-000002"]
    assert numbers(await gql(SALES, {"c": str(ann.id), "ch": "POS"}, token=staff)) == []
    assert numbers(await gql(SALES, {}, token=staff)) == ["S-000003", "S-000002", "S-000001"]
    for nobody in ("not-an-id", "00000000-0000-0000-0000-000000000000"):  # names nothing: no sales
        assert numbers(await gql(SALES, {"c": nobody}, token=staff)) == []
        too_many = await gql(TOO_MANY, {"c": nobody}, token=staff)  # the page's own checks still run
        assert too_many["errors"][0]["extensions"] == {"code": "VALIDATION", "field": "first"}
    refused = await gql(SALES, {"c": str(ann.id)}, token=ann_token)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
