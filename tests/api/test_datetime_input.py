"""DateTime inputs (coupon startsAt/endsAt): moments Python or PostgreSQL cannot hold are a VALIDATION
error, as a variable and as a literal; the ends of the calendar that do fit are stored as sent, in UTC.
The calendar's very first and last moments are refused: the database would keep them as infinity."""

import asyncio

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.migrations import alembic_config
from tests.sql_recorder import record_sql

CREATE_WITH_VARIABLE = (
    'mutation($at: DateTime) { createCoupon(input: {code: "EDGE", kind: FIXED, '
    'value: "1", %s: $at}) { errors { code } coupon { startsAt endsAt } } }'
)
CREATE_WITH_LITERAL = (
    'mutation { createCoupon(input: {code: "EDGE", kind: FIXED, value: "1", %s: "%s"}) '
    "{ errors { code } coupon { startsAt endsAt } } }"
)

UNHOLDABLE = [
    "9999-12-31T23:59:59-05:00",  # year 10000 in UTC
    "0001-01-01T00:00:00+01:00",  # year 0 in UTC
    "9999-12-31T24:00:00Z",  # 24:00 rolls over into year 10000
    "0000-01-01T00:00:00Z",  # there is no year 0
    "10000-01-01T00:00:00Z",
    "2030-02-30T00:00:00Z",
    "0001-01-01T00:00:00Z",  # the first and last moments: the database's -infinity and infinity
    "9999-12-31T23:59:59.999999Z",
]


def assert_validation(body: dict) -> None:
    assert body.get("data") is None, body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["VALIDATION"], body
    assert "DateTime" in body["errors"][0]["message"], body


@pytest.mark.parametrize("moment", UNHOLDABLE)
async def test_a_moment_outside_the_calendar_is_validation_as_a_variable_and_as_a_literal(
    gql, users, db, moment
):
    _, admin = await users.signed_in("ADMIN")
    with record_sql(db.engine) as sql:
        for field in ("startsAt", "endsAt"):
            assert_validation(await gql(CREATE_WITH_VARIABLE % field, {"at": moment}, token=admin))
            literal = await gql(CREATE_WITH_LITERAL % (field, moment), token=admin)
            assert_validation(literal)
            assert literal["errors"][0]["locations"], literal  # points at the literal in the document
    assert sql.writes() == [], sql


async def test_the_first_and_last_moments_python_holds_are_stored_and_read_back_in_utc(gql, users):
    _, admin = await users.signed_in("ADMIN")
    document = (
        'mutation($from: DateTime, $to: DateTime) { createCoupon(input: {code: "FOREVER", '
        'kind: FIXED, value: "1", startsAt: $from, endsAt: $to}) { errors { code } '
        "coupon { startsAt endsAt } } }"
    )
    window = {"from": "0001-01-01T00:59:59+00:59", "to": "9999-12-31T18:59:59-05:00"}
    created = await gql(document, window, token=admin)
    in_utc = {"startsAt": "0001-01-01T00:00:59+00:00", "endsAt": "9999-12-31T23:59:59+00:00"}
    assert created["data"]["createCoupon"] == {"errors": [], "coupon": in_utc}
    listed = await gql("{ coupons { startsAt endsAt } }", token=admin)
    assert listed["data"]["coupons"] == [in_utc]


@pytest.mark.parametrize("moment", ["2030-06-01T12:00:00", "2030-06-01", "2030-06-01T12:00"])
async def test_a_moment_without_an_offset_is_validation_as_a_variable_and_as_a_literal(
    gql, users, db, moment
):
    _, admin = await users.signed_in("ADMIN")
    with record_sql(db.engine) as sql:
        by_variable = await gql(CREATE_WITH_VARIABLE % "endsAt", {"at": moment}, token=admin)
        assert_validation(by_variable)
        assert "offset" in by_variable["errors"][0]["message"]
        literal = await gql(CREATE_WITH_LITERAL % ("endsAt", moment), token=admin)
        assert_validation(literal)
        assert literal["errors"][0]["locations"], literal
    assert sql.writes() == [], sql


@pytest.mark.parametrize("moment", ["2099-06-01T14:00:00+02:00", "2099-06-01T12:00:00Z"])
async def test_a_moment_with_an_offset_is_stored_in_utc(gql, users, moment):
    _, admin = await users.signed_in("ADMIN")
    created = await gql(CREATE_WITH_VARIABLE % "endsAt", {"at": moment}, token=admin)
    assert created["data"]["createCoupon"]["coupon"]["endsAt"] == "2099-06-01T12:00:00+00:00"


async def test_migration_0021_writes_infinite_coupon_windows_as_moments_or_no_limit(
    database_url, db, gql, users
):
    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0020_names_nfc")
    try:
        async with db.engine.begin() as connection:  # as an earlier petpos stored the calendar's ends
            await connection.execute(
                text(
                    "INSERT INTO coupons (id, code, kind, value, starts_at, ends_at) VALUES "
                    "(gen_random_uuid(), 'ALWAYS', 'FIXED', 1, '-infinity', 'infinity'), "
                    "(gen_random_uuid(), 'NEVER', 'FIXED', 1, 'infinity', NULL), "
                    "(gen_random_uuid(), 'OVER', 'FIXED', 1, NULL, '-infinity'), "
                    "(gen_random_uuid(), 'MAY', 'FIXED', 1, '2030-05-01Z', '2030-06-01Z')"
                )
            )
    finally:
        await asyncio.to_thread(command.upgrade, config, "head")
    _, admin = await users.signed_in("ADMIN")
    listed = await gql("{ coupons { code startsAt endsAt } }", token=admin)
    assert sorted(listed["data"]["coupons"], key=lambda c: c["code"]) == [
        {"code": "ALWAYS", "startsAt": None, "endsAt": None},
        {"code": "MAY", "startsAt": "2030-05-01T00:00:00+00:00", "endsAt": "2030-06-01T00:00:00+00:00"},
        {"code": "NEVER", "startsAt": "9999-12-31T23:59:59.999998+00:00", "endsAt": None},
        {"code": "OVER", "startsAt": None, "endsAt": "0001-01-01T00:00:00.000001+00:00"},
    ]
    with pytest.raises(IntegrityError, match="ck_coupons_window_finite"):
        async with db.engine.begin() as connection:
            await connection.execute(text("UPDATE coupons SET ends_at = 'infinity' WHERE code = 'MAY'"))
