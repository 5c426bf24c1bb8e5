"""Forged but well-formed pagination cursors, on every connection: VALIDATION on `after`,
never INTERNAL, never a value the database cannot hold."""

from __future__ import annotations

import base64
import json
import uuid
from decimal import Decimal

import pytest

from app.domain.catalog import service as catalog
from app.domain.catalog.models import Product
from app.domain.errors import DomainError
from app.domain.pagination import MAX_CURSOR_LENGTH, decode_cursor, encode_cursor
from app.domain.uow import run_unit

# Every connection of the API: (query field, who may read it, the type of its first key).
CONNECTIONS = [
    ("products", None, "text"),
    ("mySales", "CUSTOMER", "timestamp"),
    ("sales", "STAFF", "timestamp"),
    ("pets", None, "timestamp"),
    ("adoptionRequests", "STAFF", "timestamp"),
    ("saleOrders", "STAFF", "timestamp"),
]
SOME_ID = str(uuid.uuid4())
SOME_TIME = "2026-01-02T03:04:05.123456+00:00"


def b64(raw: str | bytes) -> str:
    return base64.urlsafe_b64encode(raw.encode() if isinstance(raw, str) else raw).decode()


def cursor(*values) -> str:
    return b64(json.dumps(list(values)))


def forged(first: str) -> dict[str, str]:
    """Cursors no server ever made; `first` is a good value of the connection's first key."""
    return {
        "not base64": "not base64 at all!",
        "base64 padding wrong": "W10",
        "base64 of non-JSON": b64("hello"),
        "base64 of bytes that are not UTF-8": b64(b"\xff\xfe[]"),
        "a JSON object": b64(json.dumps({"created_at": first, "id": SOME_ID})),
        "a JSON string": b64(json.dumps(first)),
        "no values": cursor(),
        "one value too few": cursor(first),
        "one value too many": cursor(first, SOME_ID, SOME_ID),
        "a list inside": cursor([first], SOME_ID),
        "an object inside": cursor(first, {"id": SOME_ID}),
        "null values": cursor(None, None),
        "booleans": cursor(True, False),
        "a huge integer": b64(f'["{first}", {"9" * 400}]'),
        "an integer past the digit limit": b64(f'["{first}", {"9" * 5000}]'),
        "an infinite number": b64(f'[1e999, "{SOME_ID}"]'),
        "NaN": b64(f'[NaN, "{SOME_ID}"]'),
        "a number for the id": cursor(first, 12345),
        "a bad uuid": cursor(first, "not-a-uuid"),
        "a uuid with a bad digit": cursor(first, "00000000-0000-0000-0000-00000000000g"),
        "a uuid with NUL": cursor(first, SOME_ID + "\u0000"),
        "a NUL in the first key": cursor(first + "\u0000", SOME_ID),
        "a first key longer than its column": cursor("x" * 201, SOME_ID),  # a product name: 200
        "a lone surrogate in the first key": b64(f'["{first}\\ud800", "{SOME_ID}"]'),
        "nested deep": b64("[" * 300 + "]" * 300),
        "nested past the recursion limit": b64("[" * 1500 + "]" * 1500),
        "nested past the length limit": b64("[" * 5000 + "]" * 5000),
        "far too long": "A" * (MAX_CURSOR_LENGTH + 1),
    }


FORGED_TIMESTAMPS = {
    "a timestamp past year 9999 in UTC": "9999-12-31T23:59:59-05:00",
    "a timestamp before year 1 in UTC": "0001-01-01T00:00:00+05:00",
    "month 13": "2026-13-01T00:00:00+00:00",
    "February 30": "2026-02-30T00:00:00+00:00",
    "no time zone": "2026-01-02T03:04:05",
    "a date alone": "2026-01-02",
    "words": "yesterday",
    "PostgreSQL's infinity": "infinity",
    "empty": "",
}


def cases():
    for field, role, first_key in CONNECTIONS:
        first = SOME_TIME if first_key == "timestamp" else "Kibble"
        for name, value in forged(first).items():
            yield pytest.param(field, role, value, id=f"{field}-{name}")
        if first_key == "timestamp":
            for name, bad in FORGED_TIMESTAMPS.items():
                yield pytest.param(field, role, cursor(bad, SOME_ID), id=f"{field}-{name}")


async def page(gql, users, field: str, role: str | None, after: str) -> dict:
    token = (await users.signed_in(role))[1] if role else None
    query = (
        f"query($a: String) {{ {field}(first: 5, after: $a) "
        "{ edges { cursor } pageInfo { hasNextPage } } }"
    )
    # json.dumps escapes a lone surrogate as \ud800, as a hostile client would send it.
    body = json.dumps({"query": query, "variables": {"a": after}})
    response = await gql.http.post(
        "/graphql",
        content=body,
        headers={
            "content-type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("field, role, after", list(cases()))
async def test_a_forged_cursor_is_validation_on_after(gql, users, field, role, after):
    body = await page(gql, users, field, role, after)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "VALIDATION", "field": "after"}, error
    assert error["message"] == "Malformed cursor"


@pytest.mark.parametrize("raw", ["abc\u0000def", "abc\ud800"], ids=["NUL", "lone surrogate"])
@pytest.mark.parametrize("field, role", [(f, r) for f, r, _ in CONNECTIONS])
async def test_a_cursor_string_with_nul_or_a_lone_surrogate_is_validation(gql, users, field, role, raw):
    body = await page(gql, users, field, role, raw)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["VALIDATION"]


@pytest.mark.parametrize(
    "first", ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00", "2026-01-02T03:04:05-05:00"]
)
@pytest.mark.parametrize("field, role", [(f, r) for f, r, kind in CONNECTIONS if kind == "timestamp"])
async def test_cursors_at_the_ends_of_the_calendar_page_normally(gql, users, field, role, first):
    body = await page(gql, users, field, role, cursor(first, SOME_ID))
    assert body == {"data": {field: {"edges": [], "pageInfo": {"hasNextPage": False}}}}


async def test_a_product_name_key_may_hold_any_text(gql):
    body = await gql(
        "query($a: String) { products(after: $a) { edges { cursor } } }",
        {"a": cursor("9999-12-31T23:59:59-05:00 \u00e9\u00e8 ' \" \\", SOME_ID)},
    )
    assert body == {"data": {"products": {"edges": []}}}


@pytest.mark.parametrize("letter", ["\U0001f436", "\u00e9", "\\", '"'])
async def test_the_longest_product_name_makes_a_cursor_that_pages(gql, db, letter):
    for name in (letter * 200, "Z" * 200):
        new = catalog.prepare_product(
            sku=f"SKU-{uuid.uuid4().hex[:8]}",
            name=name,
            description=None,
            category="TOY",
            price=Decimal("1.00"),
            stock=1,
        )
        await run_unit(db.sessions, lambda uow: catalog.create_product(uow, new), lock_timeout_ms=3000)
    query = "query($a: String) { products(first: 1, after: $a) { edges { cursor node { name } } } }"
    first = (await gql(query, {"a": None}))["data"]["products"]["edges"]
    second = (await gql(query, {"a": first[0]["cursor"]}))["data"]["products"]["edges"]
    assert sorted([first[0]["node"]["name"], second[0]["node"]["name"]]) == sorted([letter * 200, "Z" * 200])


def test_a_cursor_decodes_to_the_key_values_it_was_made_from():
    key = ["Kibble \u00e9", uuid.uuid4()]
    assert decode_cursor(encode_cursor(key), [Product.name, Product.id]) == key
    with pytest.raises(DomainError) as caught:
        decode_cursor(cursor("Kibble", "x"), [Product.name, Product.id])
    assert (caught.value.code, caught.value.field) == ("VALIDATION", "after")


@pytest.mark.parametrize("number", ["1e999999999", "-1e999999999", "1e-999999999"])
def test_a_decimal_key_far_out_of_range_is_validation(number):
    """abs() of "1e999999999" overflowed the decimal context (decimal.Overflow, not a ValueError);
    the others are its neighbours."""
    with pytest.raises(DomainError) as caught:
        decode_cursor(cursor(number, str(uuid.uuid4())), [Product.price, Product.id])
    assert (caught.value.code, caught.value.field) == ("VALIDATION", "after")
