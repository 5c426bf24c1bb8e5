"""Who may do what among the account operations (README, Who may call what)."""

import pytest
from sqlalchemy import insert, select, text, update

from app.db.engine import Database
from app.domain.accounts.models import User
from app.main import create_app
from tests.api.test_hardening import http_client, scratch_database
from tests.conftest import GraphQLClient, make_settings

STAFF_INPUT = {
    "email": "new.staff@example.com",
    "phone": "+1 202 555 0160",
    "name": "New Staff",
    "password": "staff password",
    "role": "STAFF",
}
CREATE_STAFF = (
    "mutation($i: CreateStaffUserInput!) { createStaffUser(input: $i) { user { email role } "
    "errors { code field } } }"
)
UPDATE = 'mutation { updateProfile(input: {name: "Renamed"}) { user { name } errors { code } } }'


def top_code(result) -> str:
    return result["errors"][0]["extensions"]["code"]


async def test_anonymous_can_reach_only_public_operations(gql):
    assert (await gql("{ me { id } }"))["data"]["me"] is None
    assert top_code(await gql(UPDATE)) == "UNAUTHENTICATED"
    assert top_code(await gql(CREATE_STAFF, {"i": STAFF_INPUT})) == "UNAUTHENTICATED"


async def test_a_bad_token_signs_nobody_in(gql):
    for query in ("{ me { id } }", UPDATE):
        refused = await gql.raw(query, token="not.a.jwt")
        assert refused.status_code == 401
        assert top_code(refused.json()) == "UNAUTHENTICATED"


@pytest.mark.parametrize("role", ["CUSTOMER", "STAFF"])
async def test_only_admins_create_staff_accounts(gql, users, role):
    _, token = await users.signed_in(role)
    assert (await gql(UPDATE, token=token))["data"]["updateProfile"]["user"]["name"] == "Renamed"
    result = await gql(CREATE_STAFF, {"i": STAFF_INPUT}, token=token)
    assert top_code(result) == "FORBIDDEN"
    assert result["data"] is None


async def test_admin_creates_staff_and_the_new_account_signs_in(gql, users):
    _, token = await users.signed_in("ADMIN")
    created = (await gql(CREATE_STAFF, {"i": STAFF_INPUT}, token=token))["data"]["createStaffUser"]
    assert created == {"user": {"email": "new.staff@example.com", "role": "STAFF"}, "errors": []}
    login = await gql(
        'mutation { login(email: "new.staff@example.com", password: "staff password") { user { role } } }'
    )
    assert login["data"]["login"]["user"]["role"] == "STAFF"
    again = (await gql(CREATE_STAFF, {"i": STAFF_INPUT}, token=token))["data"]["createStaffUser"]
    assert again["errors"][0]["code"] == "CONFLICT"


async def test_a_reset_signs_old_tokens_out_at_once_even_while_the_replica_lags(database_url, db, users):
    user, old_token = await users.signed_in()
    async with scratch_database(db, database_url) as replica_url:
        replicated = Database(make_settings(database_url, database_read_url=replica_url, pool_size=1))
        try:
            async with replicated.read_engine.begin() as replica:  # the replica still has the user as it was
                await replica.execute(
                    text("CREATE EXTENSION pg_trgm")
                )  # as on the primary: the search indexes
                await replica.run_sync(User.__table__.create)
                async with db.engine.connect() as primary:
                    row = (
                        (await primary.execute(select(User.__table__).where(User.id == user.id)))
                        .mappings()
                        .one()
                    )
                await replica.execute(insert(User.__table__).values(**row))
            async with db.engine.begin() as primary:  # what a password reset does to the user row
                await primary.execute(
                    update(User).where(User.id == user.id).values(token_version=User.token_version + 1)
                )
            async with http_client(create_app(replicated.settings, replicated)) as http:
                me = await GraphQLClient(http).raw("{ me { id } }", token=old_token)
        finally:
            await replicated.dispose()
    assert me.status_code == 401
    assert top_code(me.json()) == "UNAUTHENTICATED"
