"""Who may do what with pets and adoption requests (README, Who may call what)."""

from __future__ import annotations

import uuid

import pytest

from app.domain.adoption import service as adoption
from app.domain.uow import run_unit
from tests.adoption.conftest import APPROVE, CANCEL, REJECT, REQUEST

CREATE = (
    "mutation($i: PetInput!) { createPet(input: $i) { pet { id name status adoptionFee { amount currency } } "
    "errors { code field } } }"
)
PET_INPUT = {"name": "Pip", "species": "DOG", "ageMonths": 3, "adoptionFee": "99.50"}
LIST_REQUESTS = "{ adoptionRequests { edges { node { id } } } }"
MINE = "{ myAdoptionRequests { id } }"


def top_code(result) -> str:
    return result["errors"][0]["extensions"]["code"]


async def test_anonymous_browses_pets_but_cannot_request_or_see_requests(gql, pets):
    pet = await pets.create(name="Public")
    browse = await gql("{ pets { edges { node { name } } } }")
    assert browse["data"]["pets"]["edges"] == [{"node": {"name": "Public"}}]
    assert (await gql(f'{{ pet(id: "{pet.id}") {{ name }} }}'))["data"]["pet"] == {"name": "Public"}
    assert top_code(await gql(REQUEST, {"pet": str(pet.id)})) == "UNAUTHENTICATED"
    assert top_code(await gql(MINE)) == "UNAUTHENTICATED"
    assert top_code(await gql(LIST_REQUESTS)) == "UNAUTHENTICATED"
    assert top_code(await gql(CREATE, {"i": PET_INPUT})) == "UNAUTHENTICATED"
    assert top_code(await gql(CANCEL, {"id": str(pet.id)})) == "UNAUTHENTICATED"
    assert top_code(await gql(APPROVE, {"id": str(pet.id)})) == "UNAUTHENTICATED"
    assert top_code(await gql(REJECT, {"id": str(pet.id)})) == "UNAUTHENTICATED"
    assert await pets.status(pet.id) == "AVAILABLE"


async def test_customer_cannot_cancel_someone_elses_request_nor_approve_or_reject(db, gql, users, pets):
    pet = await pets.create()
    owner = await users.create()
    request = (
        await run_unit(
            db.sessions,
            lambda uow: adoption.request_adoption(
                uow, pet_id=pet.id, applicant_id=owner.id, message="mine", max_open=3
            ),
            lock_timeout_ms=3000,
        )
    ).request
    _, intruder = await users.signed_in()
    # Someone else's request looks exactly like one that does not exist.
    someone_elses = (await gql(CANCEL, {"id": str(request.id)}, token=intruder))["data"][
        "cancelAdoptionRequest"
    ]
    missing = (await gql(CANCEL, {"id": "00000000-0000-4000-8000-000000000000"}, token=intruder))["data"][
        "cancelAdoptionRequest"
    ]
    assert someone_elses == missing == {"request": None, "errors": [{"code": "NOT_FOUND", "field": "id"}]}
    assert (await gql(MINE, token=intruder))["data"]["myAdoptionRequests"] == []
    for document in (APPROVE, REJECT):
        result = await gql(document, {"id": str(request.id)}, token=intruder)
        assert top_code(result) == "FORBIDDEN" and result["data"] is None
    assert top_code(await gql(LIST_REQUESTS, token=intruder)) == "FORBIDDEN"
    assert top_code(await gql(CREATE, {"i": PET_INPUT}, token=intruder)) == "FORBIDDEN"
    [row] = await pets.requests(pet.id)
    assert row.status == "PENDING" and await pets.status(pet.id) == "PENDING"


@pytest.mark.parametrize("document", [APPROVE, REJECT], ids=["approve", "reject"])
async def test_a_customer_deciding_gets_the_same_forbidden_for_a_real_and_an_unknown_request(
    db, gql, users, pets, document
):
    """The role check comes first: the answer says nothing about whether the request exists."""
    pet = await pets.create()
    owner = await users.create()
    request = (
        await run_unit(
            db.sessions,
            lambda uow: adoption.request_adoption(
                uow, pet_id=pet.id, applicant_id=owner.id, message=None, max_open=3
            ),
            lock_timeout_ms=3000,
        )
    ).request
    _, customer = await users.signed_in()
    real = await gql(document, {"id": str(request.id)}, token=customer)
    unknown = await gql(document, {"id": str(uuid.uuid4())}, token=customer)
    assert real == unknown and top_code(real) == "FORBIDDEN" and real["data"] is None
    assert (await pets.requests(pet.id))[0].status == "PENDING"


@pytest.mark.parametrize("role", ["STAFF", "ADMIN"])
async def test_staff_and_admins_create_pets_and_decide_but_do_not_apply(db, gql, users, pets, role):
    _, token = await users.signed_in(role)
    created = (await gql(CREATE, {"i": PET_INPUT}, token=token))["data"]["createPet"]
    assert created["errors"] == []
    assert created["pet"]["status"] == "AVAILABLE"
    assert created["pet"]["adoptionFee"] == {"amount": "99.50", "currency": "USD"}
    pet_id = created["pet"]["id"]
    refused = await gql(REQUEST, {"pet": pet_id}, token=token)
    assert top_code(refused) == "FORBIDDEN"

    applicant = await users.create()
    request = (
        await run_unit(
            db.sessions,
            lambda uow: adoption.request_adoption(
                uow, pet_id=uuid.UUID(pet_id), applicant_id=applicant.id, message=None, max_open=3
            ),
            lock_timeout_ms=3000,
        )
    ).request
    listing = (await gql(LIST_REQUESTS, token=token))["data"]["adoptionRequests"]["edges"]
    assert [e["node"]["id"] for e in listing] == [str(request.id)]
    # Staff cancel nothing on an applicant's behalf: they reject.
    assert (await gql(CANCEL, {"id": str(request.id)}, token=token))["data"]["cancelAdoptionRequest"][
        "errors"
    ] == [{"code": "NOT_FOUND", "field": "id"}]
    decided = (await gql(REJECT, {"id": str(request.id)}, token=token))["data"]["rejectAdoptionRequest"]
    assert decided["errors"] == [] and decided["request"]["status"] == "REJECTED"
