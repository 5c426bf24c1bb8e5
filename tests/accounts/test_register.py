"""Registering: normalisation, clean CONFLICTs, never INTERNAL, also under a race."""

import asyncio

from sqlalchemy import func, select

from app import check
from app.domain.accounts import service as accounts
from app.domain.accounts.models import User
from tests.races import unit_held, wait_for_lock_waiters

REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { token user { id email phone role } errors { code field message } }
}"""


def register_input(email="ana@example.com", phone="+1 202 555 0142", password="long enough pw", name="Ana"):
    return {"input": {"email": email, "phone": phone, "name": name, "password": password}}


async def count_users(db) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(User))


async def test_register_normalises_email_and_phone_and_returns_a_working_token(gql):
    result = (await gql(REGISTER, register_input(email="  Ana@Example.COM ", phone="(202) 555-0142")))[
        "data"
    ]["register"]
    assert result["errors"] == []
    assert result["user"]["email"] == "ana@example.com"
    assert result["user"]["phone"] == "+12025550142"
    assert result["user"]["role"] == "CUSTOMER"
    me = await gql("{ me { id email } }", token=result["token"])
    assert me["data"]["me"]["id"] == result["user"]["id"]


async def test_duplicate_phone_in_another_notation_is_conflict_on_phone(gql, db):
    first = await gql(REGISTER, register_input(email="a@example.com", phone="+1 202 555 0142"))
    assert first["data"]["register"]["errors"] == []
    second = (await gql(REGISTER, register_input(email="b@example.com", phone="202.555.0142")))["data"][
        "register"
    ]
    assert second["user"] is None and second["token"] is None
    assert [(e["code"], e["field"]) for e in second["errors"]] == [("CONFLICT", "phone")]
    assert await count_users(db) == 1


async def test_an_email_and_a_phone_both_taken_are_both_reported(gql, db):
    """By two accounts or by one: the unique constraints named only the email."""
    await gql(REGISTER, register_input(email="a@example.com", phone="+1 202 555 0142"))
    await gql(REGISTER, register_input(email="b@example.com", phone="+1 202 555 0143"))
    for phone in ("+1 202 555 0142", "+1 202 555 0143"):
        again = (await gql(REGISTER, register_input(email="a@example.com", phone=phone)))["data"]["register"]
        assert [(e["code"], e["field"]) for e in again["errors"]] == [
            ("CONFLICT", "email"),
            ("CONFLICT", "phone"),
        ]
    assert await count_users(db) == 2


async def test_duplicate_email_is_conflict_on_email(gql, db):
    await gql(REGISTER, register_input(email="a@example.com", phone="+1 202 555 0142"))
    second = (await gql(REGISTER, register_input(email="A@EXAMPLE.com", phone="+1 202 555 0143")))["data"][
        "register"
    ]
    assert [(e["code"], e["field"]) for e in second["errors"]] == [("CONFLICT", "email")]
    assert await count_users(db) == 1


async def test_ten_racing_registrations_with_one_phone_make_exactly_one_account(gql, db):
    notations = ["+1 202 555 0199", "(202) 555-0199", "202-555-0199", "+12025550199", "1 202 555 0199"]
    first = await accounts.prepare_new_user(
        email="racer0@example.com",
        phone=notations[0],
        name="Ana",
        password="long enough pw",
        role="CUSTOMER",
        phone_region="US",
    )
    # The first account's INSERT held uncommitted: the other nine INSERTs wait on its entry in the
    # phone's unique index, and learn only once it commits that the number is taken.
    async with unit_held(db, lambda uow: accounts.create_user(uow, first)) as winner:
        racing = [
            asyncio.create_task(
                gql(
                    REGISTER,
                    register_input(email=f"racer{i}@example.com", phone=notations[i % len(notations)]),
                )
            )
            for i in range(1, 10)
        ]
        await wait_for_lock_waiters(db, 9, statement=r"\mINSERT INTO users\M", racers=racing)
    made = await winner
    results = await asyncio.gather(*racing)
    assert all("errors" not in r for r in results)  # no top-level (INTERNAL) errors
    conflict = {"code": "CONFLICT", "field": "phone", "message": "This phone number is already registered"}
    assert [r["data"]["register"] for r in results] == [
        {"token": None, "user": None, "errors": [conflict]}
    ] * 9
    async with db.read() as session:
        assert [(u.id, u.email, u.phone) for u in await session.scalars(select(User))] == [
            (made.id, "racer0@example.com", "+12025550199")
        ]


async def test_bad_input_gets_a_validation_error_per_field_and_writes_nothing(gql, db):
    result = await gql(
        REGISTER, register_input(email="not-an-email", phone="12", password="short", name="  ")
    )
    errors = result["data"]["register"]["errors"]
    assert {(e["code"], e["field"]) for e in errors} == {
        ("VALIDATION", "email"),
        ("VALIDATION", "phone"),
        ("VALIDATION", "password"),
        ("VALIDATION", "name"),
    }
    assert await count_users(db) == 0


async def test_a_phone_with_an_extension_is_refused_not_cut(gql, db):
    for phone in ("+1 202 555 0142 ext. 12", "(202) 555-0142 x12", "+12025550142;ext=12"):
        result = (await gql(REGISTER, register_input(phone=phone)))["data"]["register"]
        assert result["user"] is None, phone
        assert result["errors"] == [
            {"code": "VALIDATION", "field": "phone", "message": "Enter the number without an extension"}
        ]
    assert await count_users(db) == 0


async def test_login_failures_look_the_same_for_unknown_email_and_wrong_password(gql):
    await gql(REGISTER, register_input())
    login = (
        "mutation($e: String!, $p: String!) { login(email: $e, password: $p) "
        "{ token errors { code message } } }"
    )
    wrong = (await gql(login, {"e": "ana@example.com", "p": "wrong password"}))["data"]["login"]
    unknown = (await gql(login, {"e": "nobody@example.com", "p": "wrong password"}))["data"]["login"]
    assert (
        wrong
        == unknown
        == {"token": None, "errors": [{"code": "INVALID_CREDENTIALS", "message": "Wrong email or password"}]}
    )
    ok = (await gql(login, {"e": " ANA@example.com", "p": "long enough pw"}))["data"]["login"]
    assert ok["errors"] == [] and ok["token"]


class CountingHasher:
    """argon2's hasher, counting verifications and the pooled connections in use during each."""

    def __init__(self, real, engine) -> None:
        self.real, self.engine, self.connections_in_use = real, engine, []

    def verify(self, password_hash, password):
        self.connections_in_use.append(self.engine.pool.checkedout())
        return self.real.verify(password_hash, password)


async def test_each_failed_login_runs_one_verification_with_no_connection_held(gql, db, monkeypatch):
    from app.domain.accounts import credentials

    await gql(REGISTER, register_input())
    hasher = CountingHasher(credentials._hasher, db.engine)
    monkeypatch.setattr(credentials, "_hasher", hasher)
    login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token errors { code } } }"
    answers = []
    for email in ("nobody@example.com", "ana@example.com", "not an email"):
        before = len(hasher.connections_in_use)
        answers.append((await gql(login, {"e": email, "p": "wrong password"}))["data"]["login"])
        assert len(hasher.connections_in_use) == before + 1, email
    assert answers == [{"token": None, "errors": [{"code": "INVALID_CREDENTIALS"}]}] * 3
    assert hasher.connections_in_use == [0, 0, 0]  # the read session went back to the pool first


LOOKALIKES = {
    "full-width letters": "ａｎａ@example.com",
    "an accent typed as its own mark": "jose\u0301@example.com",
    # Lower case first would leave j and the caron apart: NFKC again puts them together.
    "a capital with its mark apart": "J\u030cAN@example.com",
}


async def test_one_address_typed_another_way_is_the_same_account(gql, db):
    """NFKC: full-width letters and a combining accent are the usual characters; a CONFLICT on
    sign-up, and the same account at sign-in."""
    for n, email in enumerate(("ana@example.com", "josé@example.com", "\u01f0an@example.com")):
        registered = await gql(REGISTER, register_input(email=email, phone=f"+1 202 555 011{n}"))
        assert registered["data"]["register"]["errors"] == [], registered
    for name, email in LOOKALIKES.items():
        again = (await gql(REGISTER, register_input(email=email, phone="+1 202 555 0177")))["data"][
            "register"
        ]
        assert [(e["code"], e["field"]) for e in again["errors"]] == [("CONFLICT", "email")], name
        login = 'mutation($e: String!) { login(email: $e, password: "long enough pw") { user { email } } }'
        signed_in = (await gql(login, {"e": email}))["data"]["login"]["user"]
        assert signed_in["email"] in ("ana@example.com", "josé@example.com", "\u01f0an@example.com"), name
    assert await count_users(db) == 3
    (outcome,) = await check.run_checks(db.engine, (check.SIGN_IN_EMAILS,))
    assert outcome.violations == []  # stored in the form `petpos check` holds them to


async def test_an_address_with_something_invisible_an_empty_part_or_a_bracket_is_refused(gql, db):
    # U+FDD0 is a noncharacter: no Unicode version will give it a meaning (or an NFKC form).
    for email in (
        "\u200bana@example.com",
        "ana@exam\u200dple.com",
        "ana@example.com.",
        "ana@example..com",
        "ana\ufdd0@example.com",
        ".ana@example.com",
        "ana.@example.com",
        "a..na@example.com",
        "an(a)@example.com",
        '"a na"@example.com',
        "ana@[127.0.0.1]",
        "ana@-example.com",  # no host name starts or ends with a hyphen
        "ana@example-.com",
        "ana@example.-com",
        "=?utf-8?q?ana?=@example.com",  # an encoded word: ana@example.com in a mail header
        "ana@=?utf-8?q?example?=.com",
    ):
        refused = (await gql(REGISTER, register_input(email=email)))["data"]["register"]
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [("VALIDATION", "email")], email
    assert await count_users(db) == 0
    taken = (await gql(REGISTER, register_input(email="ana@pet-shop.example.com")))["data"]["register"]
    assert taken["errors"] == []  # a hyphen inside a domain's part is fine
