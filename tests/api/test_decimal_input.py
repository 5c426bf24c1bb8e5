"""Decimal inputs (money) are strings only: a JSON number, or a number literal in the document, has
often been through a binary float already, so it is a VALIDATION error that says to send a string."""

import json

import pytest

from tests.sql_recorder import record_sql

BY_VARIABLE = (
    'mutation($v: Decimal!) { createCoupon(input: {code: "TEN", kind: FIXED, value: $v}) '
    "{ errors { code } coupon { value } } }"
)
BY_INPUT_VARIABLE = (
    "mutation($i: CouponInput!) { createCoupon(input: $i) { errors { code } coupon { value } } }"
)
BY_LITERAL = (
    'mutation { createCoupon(input: {code: "TEN", kind: FIXED, value: %s}) '
    "{ errors { code } coupon { value } } }"
)


def assert_send_a_string(body: dict) -> None:
    assert body.get("data") is None, body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["VALIDATION"], body
    assert "Decimal values are sent as strings" in body["errors"][0]["message"], body


@pytest.mark.parametrize("number", [3.99, 10, 0.1, True, [1], {"a": 1}])
async def test_a_number_is_validation_saying_to_send_a_string(gql, users, db, number):
    _, admin = await users.signed_in("ADMIN")
    with record_sql(db.engine) as sql:
        assert_send_a_string(await gql(BY_VARIABLE, {"v": number}, token=admin))
        nested = {"code": "TEN", "kind": "FIXED", "value": number}
        assert_send_a_string(await gql(BY_INPUT_VARIABLE, {"i": nested}, token=admin))
    assert sql.writes() == [], sql


async def test_the_message_quotes_the_number_as_the_string_to_send(gql, users):
    _, admin = await users.signed_in("ADMIN")
    body = await gql(BY_VARIABLE, {"v": 3.99}, token=admin)
    assert 'send "3.99"' in body["errors"][0]["message"], body


async def test_a_number_past_a_float_gets_no_advice_to_send_what_is_refused_too(client, gql, users):
    """1e999 arrives as a float's infinity: the message said to send "inf", which is refused."""
    _, admin = await users.signed_in("ADMIN")
    body = '{"query": ' + json.dumps(BY_VARIABLE) + ', "variables": {"v": 1e999}}'
    headers = {"content-type": "application/json", "authorization": f"Bearer {admin}"}
    answer = (await client.post("/graphql", content=body, headers=headers)).json()
    assert_send_a_string(answer)
    assert answer["errors"][0]["message"].endswith("never as numbers."), answer
    whole = 10**400  # more than a float holds, but a string of it is taken
    told = await gql(BY_VARIABLE, {"v": whole}, token=admin)
    assert f'send "{whole}"' in told["errors"][0]["message"], told


@pytest.mark.parametrize("literal", ["3.99", "10", "-1"])
async def test_a_number_literal_is_validation_at_the_literal(gql, users, literal):
    _, admin = await users.signed_in("ADMIN")
    body = await gql(BY_LITERAL % literal, token=admin)
    assert_send_a_string(body)
    assert body["errors"][0]["locations"], body


async def test_a_string_is_taken_as_a_variable_and_as_a_literal(gql, users):
    _, admin = await users.signed_in("ADMIN")
    created = await gql(BY_VARIABLE, {"v": "3.99"}, token=admin)
    assert created["data"]["createCoupon"] == {"errors": [], "coupon": {"value": "3.99"}}
    second = await gql((BY_LITERAL % '"4.50"').replace("TEN", "ELEVEN"), token=admin)
    assert second["data"]["createCoupon"]["errors"] == []


async def test_a_string_that_is_no_number_is_still_validation(gql, users):
    _, admin = await users.signed_in("ADMIN")
    body = await gql(BY_VARIABLE, {"v": "three"}, token=admin)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
