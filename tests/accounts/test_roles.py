"""setUserRole (ADMIN) and `petpos set-role`: a role change signs the account out everywhere, and
the shop keeps at least one ADMIN, also when two ADMINs take the role from each other at once."""

import asyncio

from sqlalchemy import func, select

from app.domain.accounts.models import User
from tests.e2e.test_cli import petpos
from tests.races import row_lock_held, wait_for_lock_waiters
from tests.sql_recorder import record_sql

SET_ROLE = """mutation($e: String!, $r: Role!) { setUserRole(email: $e, role: $r) {
  user { email role } errors { code field message } } }"""
SEARCH = '{ customers(search: "someone") { edges { node { id } } } }'


async def set_role(gql, token: str, email: str, role: str) -> dict:
    return (await gql(SET_ROLE, {"e": email, "r": role}, token=token))["data"]["setUserRole"]


async def admins(db) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).where(User.role == "ADMIN"))


async def test_a_cashier_made_customer_is_signed_out_and_signs_back_in_without_staff_rights(gql, users):
    _, admin = await users.signed_in("ADMIN")
    _, cashier = await users.signed_in("STAFF", email="cashier@example.com")
    assert (await gql(SEARCH, token=cashier))["data"] is not None

    changed = await set_role(gql, admin, "  Cashier@Example.com ", "CUSTOMER")
    assert changed == {"user": {"email": "cashier@example.com", "role": "CUSTOMER"}, "errors": []}
    denied = await gql.raw("{ me { id } }", token=cashier)
    assert denied.status_code == 401
    assert denied.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    login = 'mutation { login(email: "cashier@example.com", password: "correct horse battery") { token } }'
    again = (await gql(login))["data"]["login"]["token"]
    refused = await gql(SEARCH, token=again)
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]


async def test_the_same_role_again_changes_nothing_and_keeps_the_sessions(gql, users):
    _, admin = await users.signed_in("ADMIN")
    _, cashier = await users.signed_in("STAFF", email="cashier@example.com")
    same = await set_role(gql, admin, "cashier@example.com", "STAFF")
    assert same == {"user": {"email": "cashier@example.com", "role": "STAFF"}, "errors": []}
    assert (await gql(SEARCH, token=cashier))["data"] is not None


async def test_only_an_admin_may_and_an_unknown_email_is_not_found(gql, users):
    _, admin = await users.signed_in("ADMIN")
    unknown = await set_role(gql, admin, "nobody@example.com", "STAFF")
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("NOT_FOUND", "email")]
    assert unknown["user"] is None
    customer, token = await users.signed_in("CUSTOMER")
    _, staff = await users.signed_in("STAFF")
    for caller in (token, staff):
        refused = await gql(SET_ROLE, {"e": customer.email, "r": "ADMIN"}, token=caller)
        assert refused["data"] is None
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    anonymous = await gql(SET_ROLE, {"e": customer.email, "r": "ADMIN"})
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]


async def test_the_last_admin_keeps_the_role(db, gql, users):
    me, admin = await users.signed_in("ADMIN")
    alone = await set_role(gql, admin, me.email, "STAFF")
    assert [(e["code"], e["field"]) for e in alone["errors"]] == [("CONFLICT", "role")]
    assert "only ADMIN" in alone["errors"][0]["message"]
    other, _ = await users.signed_in("ADMIN")
    assert (await set_role(gql, admin, other.email, "STAFF"))["errors"] == []
    assert await admins(db) == 1


async def test_two_admins_taking_the_role_from_each_other_at_once_leave_one(db, gql, users):
    first, first_token = await users.signed_in("ADMIN")
    second, second_token = await users.signed_in("ADMIN")
    held = min(first.id, second.id)  # both lock the two ADMIN rows in id order: this one first
    async with row_lock_held(db, User, held):
        racers = [
            asyncio.create_task(set_role(gql, first_token, second.email, "STAFF")),
            asyncio.create_task(set_role(gql, second_token, first.email, "STAFF")),
        ]
        await wait_for_lock_waiters(db, 2, table="users", racers=racers)
    outcomes = await asyncio.gather(*racers)
    codes = sorted(tuple(e["code"] for e in outcome["errors"]) for outcome in outcomes)
    assert codes == [(), ("CONFLICT",)]
    assert await admins(db) == 1


async def test_the_account_and_every_admin_are_locked_in_one_statement_before_the_write(db, gql, users):
    _, admin = await users.signed_in("ADMIN")
    await users.signed_in("ADMIN")
    cashier, _ = await users.signed_in("STAFF")
    with record_sql(db.engine) as sql:
        assert (await set_role(gql, admin, cashier.email, "CUSTOMER"))["errors"] == []
    [lock] = sql.locks("users")
    assert "ORDER BY users.id" in sql[lock]
    sql.assert_locks_before_write("users")


async def test_petpos_set_role_changes_the_role_and_says_what_it_did(database_url, users):
    email = (await users.create("STAFF")).email
    made = petpos(database_url, "set-role", "--email", email.upper(), "--role", "CUSTOMER")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"{email} is now CUSTOMER, signed out everywhere (")
    again = petpos(database_url, "set-role", "--email", email, "--role", "CUSTOMER")
    assert again.returncode == 0 and again.stdout.startswith(f"{email} is CUSTOMER already; nothing changed")
    unknown = petpos(database_url, "set-role", "--email", "nobody@example.com", "--role", "STAFF")
    assert (unknown.returncode, unknown.stdout) == (1, "")
    assert unknown.stderr.strip() == "email: No account has this email"
    bad = petpos(database_url, "set-role", "--email", email, "--role", "OWNER")
    assert bad.returncode == 2 and "invalid choice: 'OWNER'" in bad.stderr
