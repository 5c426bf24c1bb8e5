"""A request's life: PENDING, then APPROVED, REJECTED or CANCELLED; the pet follows."""

from __future__ import annotations

from tests.adoption.conftest import APPROVE, CANCEL, REJECT, REQUEST

MINE = (
    "{ myAdoptionRequests { id status message decisionNote decidedAt pet { name status } "
    "applicant { email } } }"
)


async def _request(gql, pet, token, message=None):
    result = await gql(REQUEST, {"pet": str(pet.id), "m": message}, token=token)
    return result["data"]["requestAdoption"]


async def test_requesting_an_available_pet_makes_it_pending(gql, users, pets):
    pet = await pets.create()
    applicant, token = await users.signed_in()
    made = await _request(gql, pet, token, "  We have a garden.  ")
    assert made["errors"] == []
    assert made["request"]["status"] == "PENDING"
    assert made["request"]["message"] == "We have a garden."
    assert made["request"]["pet"] == {"id": str(pet.id), "status": "PENDING"}
    assert made["request"]["applicant"] == {"id": str(applicant.id)}
    again = await _request(gql, pet, token)
    assert again == {"request": None, "errors": [{"code": "PET_NOT_AVAILABLE", "field": "petId"}]}


async def test_reject_then_request_again_pet_is_requestable_and_old_request_stays_rejected(gql, users, pets):
    pet = await pets.create()
    _, first_token = await users.signed_in()
    _, second_token = await users.signed_in()
    _, staff_token = await users.signed_in("STAFF")
    first = (await _request(gql, pet, first_token))["request"]
    rejected = await gql(REJECT, {"id": first["id"], "n": "Needs a fenced garden"}, token=staff_token)
    decided = rejected["data"]["rejectAdoptionRequest"]["request"]
    assert decided["status"] == "REJECTED" and decided["decisionNote"] == "Needs a fenced garden"
    assert decided["decidedAt"] is not None and decided["pet"]["status"] == "AVAILABLE"

    second = await _request(gql, pet, second_token)
    assert second["errors"] == [] and second["request"]["pet"]["status"] == "PENDING"
    rows = await pets.requests(pet.id)
    assert [r.status for r in rows] == ["REJECTED", "PENDING"]
    # Acting on the old request again changes nothing.
    late = (await gql(APPROVE, {"id": first["id"]}, token=staff_token))["data"]["approveAdoptionRequest"]
    assert late == {"request": None, "errors": [{"code": "ADOPTION_NOT_PENDING", "field": "id"}]}
    assert await pets.status(pet.id) == "PENDING"


async def test_approval_adopts_the_pet_and_records_who_decided_when_and_why(gql, users, pets):
    pet = await pets.create()
    _, token = await users.signed_in()
    staff, staff_token = await users.signed_in("STAFF")
    request_id = (await _request(gql, pet, token))["request"]["id"]
    approved = await gql(APPROVE, {"id": request_id, "n": "Home visit went well"}, token=staff_token)
    payload = approved["data"]["approveAdoptionRequest"]
    assert payload["errors"] == []
    assert payload["request"]["status"] == "APPROVED" and payload["request"]["pet"]["status"] == "ADOPTED"
    [row] = await pets.requests(pet.id)
    assert (row.decided_by, row.decision_note) == (staff.id, "Home visit went well")
    assert row.decided_at >= row.created_at
    # An adopted pet takes no more requests, and its request no more decisions.
    _, other = await users.signed_in()
    assert (await _request(gql, pet, other))["errors"][0]["code"] == "PET_NOT_AVAILABLE"
    again = (await gql(REJECT, {"id": request_id}, token=staff_token))["data"]["rejectAdoptionRequest"]
    assert again["errors"][0]["code"] == "ADOPTION_NOT_PENDING"


async def test_applicant_cancels_own_request_and_the_pet_is_available_again(gql, users, pets):
    pet = await pets.create()
    applicant, token = await users.signed_in()
    request_id = (await _request(gql, pet, token))["request"]["id"]
    cancelled = (await gql(CANCEL, {"id": request_id}, token=token))["data"]["cancelAdoptionRequest"]
    assert cancelled["errors"] == [] and cancelled["request"]["status"] == "CANCELLED"
    assert (
        cancelled["request"]["decidedAt"] is not None and cancelled["request"]["pet"]["status"] == "AVAILABLE"
    )
    [row] = await pets.requests(pet.id)
    assert row.decided_by == applicant.id
    twice = (await gql(CANCEL, {"id": request_id}, token=token))["data"]["cancelAdoptionRequest"]
    assert twice == {"request": None, "errors": [{"code": "ADOPTION_NOT_PENDING", "field": "id"}]}


async def test_my_adoption_requests_lists_only_my_own_newest_first(gql, users, pets):
    first_pet, second_pet, third_pet = (
        await pets.create(name="Ada"),
        await pets.create(name="Bo"),
        await pets.create(name="Cy"),
    )
    me, token = await users.signed_in(email="me@example.com")
    _, other_token = await users.signed_in()
    _, staff_token = await users.signed_in("STAFF")
    older = (await _request(gql, first_pet, token, "first"))["request"]["id"]
    await gql(REJECT, {"id": older, "n": "Sorry"}, token=staff_token)
    await _request(gql, second_pet, token, "second")
    await _request(gql, third_pet, other_token, "not mine")
    mine = (await gql(MINE, token=token))["data"]["myAdoptionRequests"]
    assert [(r["message"], r["status"], r["pet"]["name"]) for r in mine] == [
        ("second", "PENDING", "Bo"),
        ("first", "REJECTED", "Ada"),
    ]
    assert {r["applicant"]["email"] for r in mine} == {"me@example.com"}
    assert mine[1]["decisionNote"] == "Sorry"


async def test_unknown_or_malformed_ids_are_not_found(gql, users, pets):
    _, token = await users.signed_in()
    _, staff_token = await users.signed_in("STAFF")
    unknown = "00000000-0000-4000-8000-000000000000"
    for pet_id in (unknown, "not-an-id"):
        payload = (await gql(REQUEST, {"pet": pet_id}, token=token))["data"]["requestAdoption"]
        assert payload == {"request": None, "errors": [{"code": "NOT_FOUND", "field": "petId"}]}
    for request_id in (unknown, "not-an-id"):
        assert (await gql(CANCEL, {"id": request_id}, token=token))["data"]["cancelAdoptionRequest"][
            "errors"
        ] == [{"code": "NOT_FOUND", "field": "id"}]
        assert (await gql(APPROVE, {"id": request_id}, token=staff_token))["data"]["approveAdoptionRequest"][
            "errors"
        ] == [{"code": "NOT_FOUND", "field": "id"}]
        assert (await gql(REJECT, {"id": request_id}, token=staff_token))["data"]["rejectAdoptionRequest"][
            "errors"
        ] == [{"code": "NOT_FOUND", "field": "id"}]
    assert await pets.count() == (0, 0)
