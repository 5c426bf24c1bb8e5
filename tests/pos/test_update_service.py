"""updateService: staff rename, reprice or retire a counter service under its row lock; lines
already on an order keep the name and price they were added with."""

from tests.sql_recorder import record_sql

UPDATE_SERVICE = (
    "mutation($id: ID!, $i: ServiceUpdateInput!) { updateService(id: $id, input: $i) "
    "{ service { name price { amount } durationMinutes active } errors { code field } } }"
)


async def test_staff_reprice_and_retire_a_service_and_orders_keep_their_price(pos, db):
    trim = await pos.service("Nail trim", "12.50")
    order = await pos.order()
    await pos.add(order["id"], trim, 1)
    with record_sql(db.engine) as sql:
        changed = await pos.call(
            UPDATE_SERVICE, {"id": str(trim.id), "i": {"price": "14.00", "name": " Claw trim "}}
        )
    sql.assert_locks_before_write("services")
    assert changed == {
        "service": {"name": "Claw trim", "price": {"amount": "14.00"}, "durationMinutes": 15, "active": True},
        "errors": [],
    }
    assert [(l.name, str(l.unit_price)) for l in await pos.lines(order["id"])] == [("Nail trim", "12.50")]

    retired = await pos.call(UPDATE_SERVICE, {"id": str(trim.id), "i": {"active": False}})
    assert retired["service"]["active"] is False
    refused = await pos.add(order["id"], trim, 1)
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("NOT_FOUND", "itemId")]


async def test_every_bad_field_is_reported_and_nothing_changes(pos):
    trim = await pos.service("Nail trim", "12.50")
    bad = {"name": " ", "price": "0", "durationMinutes": 0}
    refused = await pos.call(UPDATE_SERVICE, {"id": str(trim.id), "i": bad})
    assert refused["service"] is None
    assert sorted(e["field"] for e in refused["errors"]) == ["durationMinutes", "name", "price"]
    unknown = await pos.call(UPDATE_SERVICE, {"id": "not-an-id", "i": {"name": "X"}})
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "id")]
    again = await pos.call(UPDATE_SERVICE, {"id": str(trim.id), "i": {}})
    assert again["service"]["name"] == "Nail trim" and again["service"]["price"] == {"amount": "12.50"}


async def test_customers_may_not_update_services(pos, gql, users):
    trim = await pos.service()
    _, customer = await users.signed_in()
    denied = await gql(UPDATE_SERVICE, {"id": str(trim.id), "i": {"price": "1.00"}}, token=customer)
    assert denied["data"] is None and denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
