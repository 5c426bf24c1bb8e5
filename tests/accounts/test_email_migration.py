"""Migration 0014 writes stored emails in the form sign-in now reads them in (NFKC, lower case), so
an account made with a decomposed accent or full-width letters still signs in afterwards."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from alembic import command
from sqlalchemy import select, update

from app import check
from app.domain.accounts.models import OutboxMessage, User
from app.migrations import alembic_config


async def test_stored_emails_take_the_one_form_unless_another_account_has_it(database_url, db, users, gql):
    decomposed = await users.create(email="renamed1@example.com")
    full_width = await users.create(email="renamed2@example.com")
    taken = await users.create(email="zoé@example.com")
    clash = await users.create(email="renamed3@example.com")
    stored = {
        decomposed: "jose\u0301@example.com",
        full_width: "ｂｅａ@example.com",
        clash: "zoe\u0301@example.com",
    }
    async with db.sessions.begin() as session:  # as an earlier petpos stored them
        for user, email in stored.items():
            await session.execute(update(User).where(User.id == user.id).values(email=email))

    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0013_catalog_search")
    await asyncio.to_thread(command.upgrade, config, "head")

    async with db.read() as session:
        emails = dict((await session.execute(select(User.id, User.email))).all())
    assert emails[decomposed.id] == "josé@example.com"
    assert emails[full_width.id] == "bea@example.com"
    assert emails[taken.id] == "zoé@example.com"
    assert emails[clash.id] == "zoe\u0301@example.com"  # left as it was: its new form is taken
    login = 'mutation { login(email: "JOSÉ@example.com", password: "correct horse battery") { user { id } } }'
    assert (await gql(login))["data"]["login"]["user"]["id"] == str(decomposed.id)


async def test_an_address_that_would_not_fit_or_be_one_stays_and_petpos_check_names_it(
    database_url, db, users
):
    # U+FDFA is one character that NFKC writes as eighteen: 14 of them fit 254 now, not after.
    made = [await users.create(email=f"left{n}@example.com") for n in range(5)]
    too_long, not_one, older, newer, dotted = made
    stored = {
        too_long: "\ufdfa" * 14 + "@example.com",
        not_one: "amy@example\uff0e",  # a full-width dot: after NFKC the domain ends in a dot
        older: "ｌｅｏ@example.com",
        newer: "ＬＥＯ@EXAMPLE.COM",
        dotted: "dot@example.com.",  # accepted by earlier versions: nothing to rewrite
    }
    async with db.sessions.begin() as session:
        for user, email in stored.items():
            await session.execute(update(User).where(User.id == user.id).values(email=email))
        # The older one was made earlier (and is written last, so it is last on the table's pages
        # too): only created_at decides who keeps the address.
        await session.execute(
            update(User).where(User.id == older.id).values(created_at=User.created_at - timedelta(days=1))
        )

    config = alembic_config(database_url)
    await asyncio.to_thread(command.downgrade, config, "0013_catalog_search")
    await asyncio.to_thread(command.upgrade, config, "head")

    async with db.read() as session:
        emails = dict((await session.execute(select(User.id, User.email))).all())
    # `petpos check` names the accounts left to mend (docs/accounts.md).
    (outcome,) = await check.run_checks(db.engine, (check.SIGN_IN_EMAILS,))
    left = {row["user"] for row in outcome.violations}
    assert emails[too_long.id] == stored[too_long]
    assert emails[not_one.id] == stored[not_one]
    assert emails[older.id] == "leo@example.com"
    assert emails[newer.id] == stored[newer]
    assert emails[dotted.id] == stored[dotted]
    assert left == {too_long.id, not_one.id, newer.id, dotted.id}


async def test_an_address_the_rules_now_refuse_still_signs_in_and_resets_its_password(db, users, gql):
    """Sign-in and a password reset look an account up by the one form of what is typed, not by
    the rules for new addresses: an account stored before those rules keeps working."""
    login = 'mutation($e: String!) { login(email: $e, password: "correct horse battery") { user { id } } }'
    reset = "mutation($e: String!) { requestPasswordReset(email: $e) { ok } }"
    stored = {
        "dot@example.com.": "DOT@example.com.",  # a trailing dot, accepted by earlier versions
        "zero\u200bwidth@example.com": "Zero\u200bWidth@example.com",  # an invisible character
        "new\u0378@example.com": "NEW\u0378@example.com",  # a code point Unicode has not assigned
    }
    made = {email: await users.create(email=f"legacy{n}@example.com") for n, email in enumerate(stored)}
    async with db.sessions.begin() as session:
        for email, user in made.items():
            await session.execute(update(User).where(User.id == user.id).values(email=email))

    for email, typed in stored.items():
        assert (await gql(login, {"e": typed}))["data"]["login"]["user"] == {"id": str(made[email].id)}
        assert (await gql(reset, {"e": typed}))["data"]["requestPasswordReset"] == {"ok": True}
    async with db.read() as session:
        recipients = (await session.scalars(select(OutboxMessage.recipient))).all()
    assert sorted(recipients) == sorted(stored)
    register = (
        'mutation($e: String!) { register(input: {email: $e, phone: "+12025550199", name: "New", '
        'password: "long enough"}) { errors { code field } } }'
    )
    for typed in stored.values():  # a new account still cannot take such an address
        assert (await gql(register, {"e": typed}))["data"]["register"]["errors"] == [
            {"code": "VALIDATION", "field": "email"}
        ]
