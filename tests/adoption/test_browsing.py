"""Browsing pets: public, newest first, filters, stable keyset pages."""

from __future__ import annotations

from app.domain.accounts.models import User
from app.domain.adoption import service as adoption
from app.domain.uow import run_unit
from tests.races import row_lock_held, start_unit, wait_for_lock_waiters

PAGE = (
    "query($s: Species, $st: PetStatus, $f: Int, $a: String) { pets(species: $s, status: $st, first: "
    "$f, after: $a) "
    "{ edges { cursor node { name species status } } pageInfo { hasNextPage endCursor } } }"
)
REQUESTS_PAGE = (
    "query($s: AdoptionStatus, $f: Int, $a: String) { adoptionRequests(status: $s, first: $f, after: $a) "
    "{ edges { node { message status } } pageInfo { hasNextPage endCursor } } }"
)


async def _all_pages(gql, document, field, variables, token=None) -> list[list[dict]]:
    pages, after = [], None
    while True:
        data = (await gql(document, {**variables, "a": after}, token=token))["data"][field]
        pages.append([edge["node"] for edge in data["edges"]])
        if not data["pageInfo"]["hasNextPage"]:
            return pages
        after = data["pageInfo"]["endCursor"]


async def test_pets_page_newest_first_without_gaps_or_repeats(gql, pets):
    for name in ("A", "B", "C", "D", "E"):
        await pets.create(name=name)
    pages = await _all_pages(gql, PAGE, "pets", {"f": 2})
    assert [[p["name"] for p in page] for page in pages] == [["E", "D"], ["C", "B"], ["A"]]


async def test_pets_filter_by_species_and_status(db, gql, users, pets):
    await pets.create(name="Rex", species="DOG")
    cat = await pets.create(name="Tom", species="CAT")
    await pets.create(name="Kit", species="CAT")
    applicant = await users.create()
    await run_unit(
        db.sessions,
        lambda uow: adoption.request_adoption(
            uow, pet_id=cat.id, applicant_id=applicant.id, message=None, max_open=3
        ),
        lock_timeout_ms=3000,
    )

    async def names(**variables):
        return [n["name"] for page in await _all_pages(gql, PAGE, "pets", variables) for n in page]

    assert await names(s="CAT") == ["Kit", "Tom"]
    assert await names(st="AVAILABLE") == ["Kit", "Rex"]
    assert await names(s="CAT", st="PENDING") == ["Tom"]
    assert await names(s="FISH") == []


async def test_pet_by_id_is_null_when_unknown_or_malformed(gql):
    assert (await gql('{ pet(id: "00000000-0000-4000-8000-000000000000") { id } }'))["data"]["pet"] is None
    assert (await gql('{ pet(id: "nope") { id } }'))["data"]["pet"] is None


async def test_staff_page_through_requests_oldest_first_and_filter_by_status(db, gql, users, pets):
    _, staff_token = await users.signed_in("STAFF")
    staff = await users.create("STAFF")
    for i in range(5):
        pet = await pets.create(name=f"P{i}")
        applicant = await users.create()
        outcome = await run_unit(
            db.sessions,
            lambda uow: adoption.request_adoption(
                uow, pet_id=pet.id, applicant_id=applicant.id, message=f"m{i}", max_open=3
            ),
            lock_timeout_ms=3000,
        )
        if i % 2:
            await run_unit(
                db.sessions,
                lambda uow: adoption.reject_adoption_request(
                    uow, request_id=outcome.request.id, staff_id=staff.id, note=None
                ),
                lock_timeout_ms=3000,
            )
    pages = await _all_pages(gql, REQUESTS_PAGE, "adoptionRequests", {"f": 2}, token=staff_token)
    assert [[r["message"] for r in page] for page in pages] == [["m0", "m1"], ["m2", "m3"], ["m4"]]
    pending = await _all_pages(
        gql, REQUESTS_PAGE, "adoptionRequests", {"s": "PENDING", "f": 100}, token=staff_token
    )
    assert [r["message"] for r in pending[0]] == ["m0", "m2", "m4"]


async def test_a_request_that_waited_on_a_lock_is_not_passed_by_staff_paging_the_queue(db, gql, users, pets):
    """A request is placed in the queue when it is written, not when its transaction began: one
    that waited on its applicant's lock while another was made and read lands after the page read."""
    _, staff_token = await users.signed_in("STAFF")
    first_pet, second_pet = await pets.create(name="Ash"), await pets.create(name="Birch")
    waiter, other = await users.create(), await users.create()

    def request(pet, applicant, message):
        return lambda uow: adoption.request_adoption(
            uow, pet_id=pet.id, applicant_id=applicant.id, message=message, max_open=3
        )

    async with row_lock_held(db, User, waiter.id):
        waiting = start_unit(db, request(first_pet, waiter, "waited"))
        await wait_for_lock_waiters(db, 1, table="users", racers=[waiting])
        await run_unit(db.sessions, request(second_pet, other, "made meanwhile"), lock_timeout_ms=3000)
        page = (await gql(REQUESTS_PAGE, {"f": 1}, token=staff_token))["data"]["adoptionRequests"]
        assert [edge["node"]["message"] for edge in page["edges"]] == ["made meanwhile"]
    await waiting
    after = {"f": 100, "a": page["pageInfo"]["endCursor"]}
    rest = (await gql(REQUESTS_PAGE, after, token=staff_token))["data"]["adoptionRequests"]
    assert [edge["node"]["message"] for edge in rest["edges"]] == ["waited"]
