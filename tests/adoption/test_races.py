"""Races on one pet: real connections that commit, interleavings forced with the
row locks themselves (wait_for_lock_waiters), never with sleeps."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from app.db.uow import run_unit
from app.domain.adoption import service as adoption
from app.domain.adoption.models import AdoptionRequest
from app.domain.errors import DomainError
from tests.adoption.conftest import APPROVE, CANCEL, REQUEST
from tests.races import wait_for_lock_waiters


def unit(db, work):
    return asyncio.create_task(run_unit(db.sessions, work, lock_timeout_ms=5000))


async def test_two_requests_for_one_pet_make_one_pending_request(db, users, pets):
    pet = await pets.create()
    first_applicant, second_applicant = await users.create(), await users.create()
    holding, release = asyncio.Event(), asyncio.Event()

    async def request_and_hold(uow):
        outcome = await adoption.request_adoption(uow, pet_id=pet.id, applicant_id=first_applicant.id, message=None)
        holding.set()
        await release.wait()  # the pet stays locked until this unit commits
        return outcome

    first = unit(db, request_and_hold)
    await holding.wait()
    second = unit(db, lambda uow: adoption.request_adoption(
        uow, pet_id=pet.id, applicant_id=second_applicant.id, message=None))
    await wait_for_lock_waiters(db, 1)  # the second request is blocked on the pet row
    assert not second.done()
    release.set()
    assert (await first).request.status == "PENDING"
    with pytest.raises(DomainError) as caught:
        await second  # it re-read the pet after the lock and found it PENDING
    assert (caught.value.code, caught.value.field) == ("PET_NOT_AVAILABLE", "petId")
    rows = await pets.requests(pet.id)
    assert [(r.status, r.applicant_id) for r in rows] == [("PENDING", first_applicant.id)]
    assert await pets.status(pet.id) == "PENDING"


async def test_twelve_racing_requests_make_one_pending_and_eleven_pet_not_available(gql, users, pets):
    pet = await pets.create()
    tokens = [(await users.signed_in())[1] for _ in range(12)]
    results = await asyncio.gather(*[gql(REQUEST, {"pet": str(pet.id)}, token=t) for t in tokens])
    payloads = [r["data"]["requestAdoption"] for r in results]
    winners = [p for p in payloads if not p["errors"]]
    losers = [p for p in payloads if p["errors"]]
    assert len(winners) == 1 and winners[0]["request"]["status"] == "PENDING"
    assert winners[0]["request"]["pet"]["status"] == "PENDING"
    assert len(losers) == 11
    assert all(p == {"request": None, "errors": [{"code": "PET_NOT_AVAILABLE", "field": "petId"}]} for p in losers)
    rows = await pets.requests(pet.id)
    assert len(rows) == 1 and rows[0].status == "PENDING"
    assert await pets.status(pet.id) == "PENDING"


async def _pending_request(db, users, pets):
    pet = await pets.create()
    applicant, staff = await users.create(), await users.create("STAFF")
    outcome = await run_unit(db.sessions, lambda uow: adoption.request_adoption(
        uow, pet_id=pet.id, applicant_id=applicant.id, message="Please"), lock_timeout_ms=5000)
    return pet, outcome.request, applicant, staff


@pytest.mark.parametrize("winner", ["approve", "cancel"])
async def test_approve_racing_cancel_exactly_one_wins_and_the_pet_follows_the_request(db, users, pets, winner):
    pet, request, applicant, staff = await _pending_request(db, users, pets)
    actions = {
        "approve": lambda uow: adoption.approve_adoption_request(uow, request_id=request.id, staff_id=staff.id, note="Yes"),
        "cancel": lambda uow: adoption.cancel_adoption_request(uow, request_id=request.id, applicant_id=applicant.id),
    }
    loser = "cancel" if winner == "approve" else "approve"
    holding, release = asyncio.Event(), asyncio.Event()

    async def win_and_hold(uow):
        outcome = await actions[winner](uow)
        holding.set()
        await release.wait()
        return outcome

    first = unit(db, win_and_hold)
    await holding.wait()
    second = unit(db, actions[loser])
    await wait_for_lock_waiters(db, 1)  # the loser waits on the pet row, before touching the request
    release.set()
    await first
    with pytest.raises(DomainError) as caught:
        await second
    assert caught.value.code == "ADOPTION_NOT_PENDING"
    [row] = await pets.requests(pet.id)
    expected = {"approve": ("APPROVED", "ADOPTED", staff.id), "cancel": ("CANCELLED", "AVAILABLE", applicant.id)}
    assert (row.status, await pets.status(pet.id), row.decided_by) == expected[winner]
    assert row.decided_at is not None


async def test_approve_and_cancel_over_graphql_leave_request_and_pet_consistent(db, gql, users, pets):
    for _ in range(5):
        pet = await pets.create()
        applicant, applicant_token = await users.signed_in()
        _, staff_token = await users.signed_in("STAFF")
        made = (await gql(REQUEST, {"pet": str(pet.id)}, token=applicant_token))["data"]["requestAdoption"]
        request_id = made["request"]["id"]
        approve, cancel = await asyncio.gather(
            gql(APPROVE, {"id": request_id}, token=staff_token),
            gql(CANCEL, {"id": request_id}, token=applicant_token))
        errors = approve["data"]["approveAdoptionRequest"]["errors"] + cancel["data"]["cancelAdoptionRequest"]["errors"]
        assert [e["code"] for e in errors] == ["ADOPTION_NOT_PENDING"]
        [row] = await pets.requests(pet.id)
        assert {"APPROVED": "ADOPTED", "CANCELLED": "AVAILABLE"}[row.status] == await pets.status(pet.id)


async def test_partial_unique_index_turns_a_second_pending_request_into_pet_not_available(db, users, pets):
    """The backstop: code that skips the pet lock still cannot make two PENDING requests."""
    pet = await pets.create()
    first_applicant, second_applicant = await users.create(), await users.create()
    inserted, release = asyncio.Event(), asyncio.Event()

    def insert_pending(applicant_id):
        async def work(uow):
            uow.session.add(AdoptionRequest(pet_id=pet.id, applicant_id=applicant_id, status="PENDING"))
            await uow.session.flush()  # no lock on the pet: straight to the index
        return work

    async def insert_and_hold(uow):
        await insert_pending(first_applicant.id)(uow)
        inserted.set()
        await release.wait()

    first = unit(db, insert_and_hold)
    await inserted.wait()
    second = unit(db, insert_pending(second_applicant.id))
    await wait_for_lock_waiters(db, 1)  # the second insert waits on the first's index entry
    release.set()
    await first
    with pytest.raises(DomainError) as caught:
        await second  # asyncpg names the violated index; it maps to a clean code, not INTERNAL
    assert (caught.value.code, caught.value.field) == ("PET_NOT_AVAILABLE", "petId")
    async with db.read() as session:
        pending = list(await session.scalars(select(AdoptionRequest).where(AdoptionRequest.status == "PENDING")))
    assert [r.applicant_id for r in pending] == [first_applicant.id]
