"""Customer lookup at the counter: email, phone in any notation, name words; customers only; paged;
answered from the pg_trgm indexes."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.domain.accounts.models import User
from app.domain.accounts.search import customers_query, prepare_customer_search

SEARCH = """query($s: String!, $first: Int, $after: String) {
  customers(search: $s, first: $first, after: $after) {
  edges { cursor node { id name email phone role } } pageInfo { hasNextPage endCursor hasPreviousPage } } }"""


async def found(gql, token: str, search: str) -> list[str]:
    result = await gql(SEARCH, {"s": search}, token=token)
    assert "errors" not in result, result
    return [edge["node"]["name"] for edge in result["data"]["customers"]["edges"]]


@pytest.fixture
async def staff_token(users) -> str:
    return (await users.signed_in("STAFF", name="Jane Counter"))[1]


@pytest.fixture
async def people(users) -> None:
    await users.create(name="Jane Doe", email="Jane.Doe@Example.com", phone="(202) 555-0143")
    await users.create(name="John Smith", email="jsmith@pets.example", phone="+1 202 555 0177")
    await users.create(name="Ana María Núñez", email="ana@example.org", phone="202.555.0188")
    await users.create("STAFF", name="Jane Doe Staff", email="jane.staff@example.com")
    await users.create("ADMIN", name="Jane Doe Admin", email="jane.admin@example.com")


async def test_email_matches_in_any_letter_case_and_in_part(gql, staff_token, people):
    assert await found(gql, staff_token, "JANE.DOE@EXAMPLE.COM") == ["Jane Doe"]
    assert await found(gql, staff_token, "ｊａｎｅ.doe@example.com") == ["Jane Doe"]  # full-width, as stored
    assert await found(gql, staff_token, "\U0001d409ane.doe@example.com") == ["Jane Doe"]  # a bold capital
    assert await found(gql, staff_token, "jsmith@") == ["John Smith"]
    assert await found(gql, staff_token, "example.org") == ["Ana María Núñez"]


@pytest.mark.parametrize(
    "search", ["(202) 555-0143", "+1 202 555 0143", "202.555.0143", "2025550143", "+12025550143"]
)
async def test_a_whole_phone_number_matches_in_any_notation(gql, staff_token, people, search):
    assert await found(gql, staff_token, search) == ["Jane Doe"]


async def test_part_of_a_phone_number_matches_its_digits(gql, staff_token, people):
    assert await found(gql, staff_token, "555-0177") == ["John Smith"]
    assert await found(gql, staff_token, "555 01") == ["Ana María Núñez", "Jane Doe", "John Smith"]


async def test_name_words_match_in_any_order_and_letter_case(gql, staff_token, people):
    assert await found(gql, staff_token, "doe jane") == ["Jane Doe"]
    assert await found(gql, staff_token, "  SMITH  ") == ["John Smith"]
    assert await found(gql, staff_token, "maría núñez") == ["Ana María Núñez"]
    assert await found(gql, staff_token, "jane smith") == []  # every word must match


async def test_only_customer_accounts_are_found(gql, staff_token, people):
    assert await found(gql, staff_token, "jane") == ["Jane Doe"]
    assert await found(gql, staff_token, "jane.staff@example.com") == []


async def test_like_wildcards_in_a_search_are_taken_literally(gql, staff_token, people, users):
    await users.create(name="100% Dog_Lover", email="dog@example.com")
    assert await found(gql, staff_token, "%%%") == []
    assert await found(gql, staff_token, "___") == []
    assert await found(gql, staff_token, "100%") == ["100% Dog_Lover"]
    assert await found(gql, staff_token, "g_l") == ["100% Dog_Lover"]


async def test_results_come_in_name_order_in_pages(gql, staff_token, users):
    names = ["Erin Pike", "Al Pike", "Cora Pike", "Bea Pike", "Dan Pike"]
    for name in names:
        await users.create(name=name)
    await users.create(name="Al Pike")  # the same name twice: the id breaks the tie
    seen, after, pages = [], None, []
    while True:
        result = await gql(SEARCH, {"s": "pike", "first": 2, "after": after}, token=staff_token)
        page = result["data"]["customers"]
        seen += [(e["node"]["name"], e["node"]["id"]) for e in page["edges"]]
        pages.append(
            (len(page["edges"]), page["pageInfo"]["hasNextPage"], page["pageInfo"]["hasPreviousPage"])
        )
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert pages == [(2, True, False), (2, True, True), (2, False, True)]
    assert [name for name, _ in seen] == sorted(names + ["Al Pike"])
    assert len({id for _, id in seen}) == 6
    first_two = [id for name, id in seen if name == "Al Pike"]
    assert first_two == sorted(first_two)


async def test_staff_and_admins_may_search_customers_may_not(gql, users, people):
    _, admin = await users.signed_in("ADMIN")
    assert await found(gql, admin, "john") == ["John Smith"]
    _, customer = await users.signed_in("CUSTOMER")
    refused = await gql(SEARCH, {"s": "john"}, token=customer)
    assert refused["data"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    anonymous = await gql(SEARCH, {"s": "john"})
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]


SHORT = "Give at least 3 characters in a row to search for"
LONG = "A search is at most 100 characters"


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ("", SHORT),
        ("   ", SHORT),
        ("ab", SHORT),
        ("ab cd e", SHORT),
        ("x" * 101, LONG),  # one word long enough: only the cap refuses it
        ("jo " * 40, LONG),  # every word short too: the cap is checked first
    ],
)
async def test_an_empty_short_or_overlong_search_is_a_validation_error(gql, staff_token, search, message):
    result = await gql(SEARCH, {"s": search}, token=staff_token)
    assert result["data"] is None
    assert [(e["extensions"]["code"], e["message"]) for e in result["errors"]] == [("VALIDATION", message)]


async def test_a_bad_page_request_is_a_validation_error(gql, staff_token):
    for variables in ({"s": "jane", "first": 0}, {"s": "jane", "after": "not a cursor"}):
        result = await gql(SEARCH, variables, token=staff_token)
        assert [e["extensions"]["code"] for e in result["errors"]] == ["VALIDATION"]


def explain(connection, search: str) -> str:
    stmt = customers_query(prepare_customer_search(search, phone_region="US"))
    stmt = stmt.order_by(User.name, User.id).limit(21)  # as fetch_page sends it
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    return f"EXPLAIN (FORMAT JSON) {compiled}"


def index_scans(plan: dict) -> set[str]:
    found = {plan["Index Name"]} if "Index Name" in plan else set()
    for child in plan.get("Plans", []):
        found |= index_scans(child)
    return found


SEARCH_INDEXES = [ix for ix in User.__table__.indexes if ix.name.startswith("ix_users_customer_")]


async def test_postgresql_answers_each_match_kind_from_its_trigram_index(db):
    """100,000 customers, loaded as a bulk load would (indexes built afterwards), all rolled back:
    enough that PostgreSQL itself picks the indexes (bench/customer_search.py: a million)."""
    async with db.engine.connect() as connection, connection.begin() as transaction:
        for index in SEARCH_INDEXES:
            await connection.execute(text(f"DROP INDEX {index.name}"))
        await connection.execute(
            text("""INSERT INTO users (id, email, phone, name, role, password_hash, token_version)
                    SELECT gen_random_uuid(), 'customer' || n || '@example.com',
                           '+1212' || (2000000 + n)::text, 'Customer ' || n, 'CUSTOMER', 'x', 1
                    FROM generate_series(1, 100000) n
                    UNION ALL
                    SELECT gen_random_uuid(), 'zq@example.com', '+12025550199', 'Zebediah Quill',
                           'CUSTOMER', 'x', 1""")
        )
        for index in SEARCH_INDEXES:
            await connection.run_sync(lambda sync: index.create(sync))
        await connection.execute(text("ANALYZE users"))
        used = {}
        for search in [
            "zebediah",
            "Zebediah Quill",
            "zq@example",
            "ZQ@example.com",
            "555-0199",
            "(202) 555-0199",
        ]:
            plan = (await connection.execute(text(explain(connection, search)))).scalar_one()
            used[search] = index_scans(plan[0]["Plan"])
        await transaction.rollback()
    name, email, phone = (f"ix_users_customer_{column}_trgm" for column in ("name", "email", "phone"))
    assert used == {
        "zebediah": {name, email},
        "Zebediah Quill": {name, email},
        "zq@example": {name, email},
        "ZQ@example.com": {"uq_users_email"},
        "555-0199": {name, email, phone},
        "(202) 555-0199": {name, email, "uq_users_phone"},
    }
