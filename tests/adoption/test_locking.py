"""Recorded SQL: every adoption mutation locks the pet before it writes, in the
global order (pets, then adoption_requests); queries never lock or write; a
list of requests costs the same number of statements however long it is."""

from __future__ import annotations

import pytest

from app.domain.adoption import service as adoption
from app.domain.uow import run_unit
from tests.adoption.conftest import APPROVE, CANCEL, PET_FIELDS, REJECT, REQUEST
from tests.sql_recorder import record_sql

LIST_REQUESTS = (
    "query($s: AdoptionStatus, $f: Int) { adoptionRequests(status: $s, first: $f) { edges { cursor node "
    "{ id status pet { name status } applicant { email } } } pageInfo { hasNextPage endCursor } } }"
)
MINE = "{ myAdoptionRequests { id pet { name } applicant { email } } }"
CREATE_PET = "mutation($i: PetInput!) { createPet(input: $i) { pet { id status } errors { code field } } }"


async def _pending(db, users, pets):
    pet = await pets.create()
    applicant, token = await users.signed_in()
    outcome = await run_unit(
        db.sessions,
        lambda uow: adoption.request_adoption(
            uow, pet_id=pet.id, applicant_id=applicant.id, message=None, max_open=3
        ),
        lock_timeout_ms=3000,
    )
    return pet, outcome.request, token


def assert_pet_then_request_locked_before_writes(sql) -> None:
    sql.assert_locks_before_write("pets")
    sql.assert_locks_before_write("adoption_requests")
    assert sql.locks("pets")[0] < sql.locks("adoption_requests")[0]
    # One UPDATE of the request and one of the pet: constant, whatever the history.
    assert len(sql.writes()) == 2
    # They are the last statements: decidedAt (the database's clock) came back in the UPDATE's
    # RETURNING, not in a SELECT after it.
    assert sql.writes() == [len(sql) - 2, len(sql) - 1]


async def test_create_pet_takes_no_lock_and_is_a_single_insert_in_its_unit(db, gql, users):
    _, token = await users.signed_in("STAFF")
    with record_sql(db.engine) as sql:
        result = await gql(
            CREATE_PET,
            {"i": {"name": "Pip", "species": "DOG", "ageMonths": 3, "adoptionFee": "99.50"}},
            token=token,
        )
    assert result["data"]["createPet"]["errors"] == []
    # No existing row coordinates a new pet, so there is nothing to lock or wait for.
    assert sql.row_locks() == []
    # Its one write is its last statement: the unit is that INSERT alone.
    assert sql.writes() == [len(sql) - 1] and sql[-1].startswith("INSERT INTO pets "), sql


async def test_request_adoption_locks_the_pet_before_any_write(db, gql, users, pets):
    pet = await pets.create()
    _, token = await users.signed_in()
    with record_sql(db.engine) as sql:
        result = await gql(REQUEST, {"pet": str(pet.id)}, token=token)
    assert result["data"]["requestAdoption"]["errors"] == []
    sql.assert_locks_before_write("pets")
    assert len(sql.locks("pets")) == 1 and sql.locks("adoption_requests") == []
    assert len(sql.writes()) == 2  # INSERT the request, UPDATE the pet


async def test_cancel_locks_pet_then_request_before_any_write(db, gql, users, pets):
    _, request, token = await _pending(db, users, pets)
    with record_sql(db.engine) as sql:
        result = await gql(CANCEL, {"id": str(request.id)}, token=token)
    assert result["data"]["cancelAdoptionRequest"]["errors"] == []
    assert_pet_then_request_locked_before_writes(sql)


@pytest.mark.parametrize(
    "operation,document", [("approveAdoptionRequest", APPROVE), ("rejectAdoptionRequest", REJECT)]
)
async def test_staff_decisions_lock_pet_then_request_before_any_write(
    db, gql, users, pets, operation, document
):
    _, request, _ = await _pending(db, users, pets)
    _, staff_token = await users.signed_in("STAFF")
    with record_sql(db.engine) as sql:
        result = await gql(document, {"id": str(request.id), "n": "ok"}, token=staff_token)
    assert result["data"][operation]["errors"] == []
    assert_pet_then_request_locked_before_writes(sql)


async def test_a_refused_request_writes_nothing(db, gql, users, pets):
    pet, _, _ = await _pending(db, users, pets)
    _, token = await users.signed_in()
    with record_sql(db.engine) as sql:
        result = await gql(REQUEST, {"pet": str(pet.id)}, token=token)
    assert result["data"]["requestAdoption"]["errors"][0]["code"] == "PET_NOT_AVAILABLE"
    assert sql.locks("pets") and sql.writes() == []


async def test_adoption_queries_take_no_locks_and_write_nothing(db, gql, users, pets):
    pet, request, token = await _pending(db, users, pets)
    _, staff_token = await users.signed_in("STAFF")
    with record_sql(db.engine) as sql:
        browse = await gql(f"{{ pets(first: 10) {{ edges {{ node {{ {PET_FIELDS} }} }} }} }}")
        one = await gql(f'{{ pet(id: "{pet.id}") {{ {PET_FIELDS} }} }}')
        mine = await gql(MINE, token=token)
        listing = await gql(LIST_REQUESTS, {"s": "PENDING"}, token=staff_token)
    assert len(browse["data"]["pets"]["edges"]) == 1 and one["data"]["pet"]["status"] == "PENDING"
    assert [r["id"] for r in mine["data"]["myAdoptionRequests"]] == [str(request.id)]
    assert [e["node"]["id"] for e in listing["data"]["adoptionRequests"]["edges"]] == [str(request.id)]
    assert sql.count() > 0
    sql.assert_no_locks_or_writes()


async def _listing_statements(db, gql, token) -> tuple[int, int]:
    with record_sql(db.engine) as sql:
        result = await gql(LIST_REQUESTS, {"f": 100}, token=token)
    return len(result["data"]["adoptionRequests"]["edges"]), sql.count()


async def test_listing_adoption_requests_costs_constant_statements_however_many_rows(db, gql, users, pets):
    _, staff_token = await users.signed_in("STAFF")
    counts = []
    for more in (2, 8):
        for _ in range(more):
            await _pending(db, users, pets)
        counts.append(await _listing_statements(db, gql, staff_token))
    (few_rows, few_statements), (many_rows, many_statements) = counts
    assert (few_rows, many_rows) == (2, 10)
    assert few_statements == many_statements


async def test_my_adoption_requests_costs_constant_statements(db, gql, users, pets):
    user, token = await users.signed_in()
    counts = []
    for more in (1, 5):
        for _ in range(more):
            pet = await pets.create()
            # Past the API's limit of open requests, straight through the service.
            await run_unit(
                db.sessions,
                lambda uow: adoption.request_adoption(
                    uow, pet_id=pet.id, applicant_id=user.id, message=None, max_open=10
                ),
                lock_timeout_ms=3000,
            )
        with record_sql(db.engine) as sql:
            result = await gql(MINE, token=token)
        counts.append((len(result["data"]["myAdoptionRequests"]), sql.count()))
    assert [rows for rows, _ in counts] == [1, 6]
    assert counts[0][1] == counts[1][1]
