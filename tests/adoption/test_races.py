"""Races on one pet: real connections that commit, interleavings forced with the
row locks themselves (wait_for_lock_waiters), never with sleeps.

Where a transaction must be queued on the pet row, the wait counts only
transactions blocked in `SELECT … FROM pets … FOR UPDATE`: one blocked on the
request row or on the unique index does not count, so these tests fail if a
service stops locking the pet."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from app.domain.adoption import service as adoption
from app.domain.adoption.models import AdoptionRequest
from app.domain.errors import DomainError
from app.domain.uow import run_unit
from tests.adoption.conftest import APPROVE, CANCEL, REQUEST
from tests.invariants import assert_invariants
from tests.races import start_unit, unit_held, wait_for_lock_waiters


def insert_pending(pet_id, applicant_id):
    """A unit that inserts a PENDING request without the pet lock, as a buggy code path would."""

    async def work(uow):
        uow.lock_free("skips the pet lock on purpose, to prove the index is the backstop")
        uow.session.add(AdoptionRequest(pet_id=pet_id, applicant_id=applicant_id, status="PENDING"))
        await uow.session.flush()  # no lock on the pet: straight to the index

    return work


async def test_two_requests_for_one_pet_make_one_pending_request(db, users, pets):
    pet = await pets.create()
    first_applicant, second_applicant = await users.create(), await users.create()
    async with unit_held(
        db,
        lambda uow: adoption.request_adoption(
            uow, pet_id=pet.id, applicant_id=first_applicant.id, message=None, max_open=3
        ),
    ) as first:
        second = start_unit(
            db,
            lambda uow: adoption.request_adoption(
                uow, pet_id=pet.id, applicant_id=second_applicant.id, message=None, max_open=3
            ),
        )
        await wait_for_lock_waiters(db, 1, table="pets", racers=[second])  # blocked on the pet row
        assert not second.done()
    assert (await first).request.status == "PENDING"
    with pytest.raises(DomainError) as caught:
        await second  # it re-read the pet after the lock and found it PENDING
    assert (caught.value.code, caught.value.field) == ("PET_NOT_AVAILABLE", "petId")
    rows = await pets.requests(pet.id)
    assert [(r.status, r.applicant_id) for r in rows] == [("PENDING", first_applicant.id)]
    assert await pets.status(pet.id) == "PENDING"
    await assert_invariants(db)


async def test_twelve_racing_requests_make_one_pending_and_eleven_pet_not_available(db, gql, users, pets):
    pet = await pets.create()
    tokens = [(await users.signed_in())[1] for _ in range(12)]
    # The pet row held with the services' own lock helper, so all twelve must queue on it.
    async with unit_held(db, lambda uow: adoption.lock_pet(uow, pet.id)):
        racing = [asyncio.create_task(gql(REQUEST, {"pet": str(pet.id)}, token=t)) for t in tokens]
        await wait_for_lock_waiters(db, 12, table="pets", racers=racing)  # all twelve queued
    payloads = [r["data"]["requestAdoption"] for r in await asyncio.gather(*racing)]
    winners = [p for p in payloads if not p["errors"]]
    losers = [p for p in payloads if p["errors"]]
    assert len(winners) == 1 and winners[0]["request"]["status"] == "PENDING"
    assert winners[0]["request"]["pet"]["status"] == "PENDING"
    assert len(losers) == 11
    assert all(
        p == {"request": None, "errors": [{"code": "PET_NOT_AVAILABLE", "field": "petId"}]} for p in losers
    )
    rows = await pets.requests(pet.id)
    assert len(rows) == 1 and rows[0].status == "PENDING"
    assert await pets.status(pet.id) == "PENDING"
    await assert_invariants(db)


async def _pending_request(db, users, pets):
    pet = await pets.create()
    applicant, staff = await users.create(), await users.create("STAFF")
    outcome = await run_unit(
        db.sessions,
        lambda uow: adoption.request_adoption(
            uow, pet_id=pet.id, applicant_id=applicant.id, message="Please", max_open=3
        ),
        lock_timeout_ms=5000,
    )
    return pet, outcome.request, applicant, staff


@pytest.mark.parametrize("winner", ["approve", "cancel"])
async def test_approve_racing_cancel_exactly_one_wins_and_the_pet_follows_the_request(
    db, users, pets, winner
):
    pet, request, applicant, staff = await _pending_request(db, users, pets)
    actions = {
        "approve": lambda uow: adoption.approve_adoption_request(
            uow, request_id=request.id, staff_id=staff.id, note="Yes"
        ),
        "cancel": lambda uow: adoption.cancel_adoption_request(
            uow, request_id=request.id, applicant_id=applicant.id
        ),
    }
    loser = "cancel" if winner == "approve" else "approve"
    async with unit_held(db, actions[winner]) as first:
        second = start_unit(db, actions[loser])
        # The loser queues on the pet row, before it touches the request.
        await wait_for_lock_waiters(db, 1, table="pets", racers=[second])
    await first
    with pytest.raises(DomainError) as caught:
        await second
    assert caught.value.code == "ADOPTION_NOT_PENDING"
    [row] = await pets.requests(pet.id)
    expected = {
        "approve": ("APPROVED", "ADOPTED", staff.id),
        "cancel": ("CANCELLED", "AVAILABLE", applicant.id),
    }
    assert (row.status, await pets.status(pet.id), row.decided_by) == expected[winner]
    assert row.created_at <= row.decided_at  # both from the database's clock
    await assert_invariants(db)


@pytest.mark.parametrize("first", ["approve", "cancel"])
async def test_approve_and_cancel_over_graphql_leave_request_and_pet_consistent(db, gql, users, pets, first):
    pet = await pets.create()
    applicant, applicant_token = await users.signed_in()
    staff, staff_token = await users.signed_in("STAFF")
    made = (await gql(REQUEST, {"pet": str(pet.id)}, token=applicant_token))["data"]["requestAdoption"]
    request_id = made["request"]["id"]
    calls = {
        "approve": lambda: gql(APPROVE, {"id": request_id}, token=staff_token),
        "cancel": lambda: gql(CANCEL, {"id": request_id}, token=applicant_token),
    }
    second = "cancel" if first == "approve" else "approve"
    # The pet row held: `first` queues on it, then `second` behind it. The first waiter holds the
    # row's tuple lock that the later ones queue on, so once the row is let go (not changed: the
    # holder only locked it) `first` decides the request and `second` finds it decided.
    async with unit_held(db, lambda uow: adoption.lock_pet(uow, pet.id)):
        racing = {first: asyncio.create_task(calls[first]())}
        await wait_for_lock_waiters(db, 1, table="pets", racers=racing.values())
        racing[second] = asyncio.create_task(calls[second]())
        await wait_for_lock_waiters(db, 2, table="pets", racers=racing.values())
    approve = (await racing["approve"])["data"]["approveAdoptionRequest"]
    cancel = (await racing["cancel"])["data"]["cancelAdoptionRequest"]
    status, pet_status, by = {
        "approve": ("APPROVED", "ADOPTED", staff.id),
        "cancel": ("CANCELLED", "AVAILABLE", applicant.id),
    }[first]
    won, lost = (approve, cancel) if first == "approve" else (cancel, approve)
    assert won["errors"] == []
    assert (won["request"]["status"], won["request"]["pet"]["status"]) == (status, pet_status)
    assert lost == {"request": None, "errors": [{"code": "ADOPTION_NOT_PENDING", "field": "id"}]}
    [row] = await pets.requests(pet.id)
    assert (row.status, await pets.status(pet.id), row.decided_by) == (status, pet_status, by)
    await assert_invariants(db)


async def test_partial_unique_index_turns_a_second_pending_request_into_pet_not_available(db, users, pets):
    """The backstop: code that skips the pet lock still cannot make two PENDING requests."""
    pet = await pets.create()
    first_applicant, second_applicant = await users.create(), await users.create()
    async with unit_held(db, insert_pending(pet.id, first_applicant.id)) as first:
        second = start_unit(db, insert_pending(pet.id, second_applicant.id))
        # The second insert waits on the first's uncommitted index entry (no pet lock anywhere).
        await wait_for_lock_waiters(db, 1, statement=r"\mINSERT INTO adoption_requests\M")
    await first
    with pytest.raises(DomainError) as caught:
        await second  # asyncpg names the violated index; it maps to a clean code, not INTERNAL
    assert (caught.value.code, caught.value.field) == ("PET_NOT_AVAILABLE", "petId")
    async with db.read() as session:
        pending = list(
            await session.scalars(select(AdoptionRequest).where(AdoptionRequest.status == "PENDING"))
        )
    assert [r.applicant_id for r in pending] == [first_applicant.id]


async def test_partial_unique_index_over_graphql_is_a_pet_not_available_payload_error(db, gql, users, pets):
    """A PENDING request the pet does not know about (as a buggy path would leave it): the
    service finds the pet AVAILABLE, the index refuses the insert, and the client gets
    PET_NOT_AVAILABLE in the payload, not a top-level INTERNAL error."""
    pet = await pets.create()
    stray = await users.create()
    await run_unit(db.sessions, insert_pending(pet.id, stray.id), lock_timeout_ms=5000)
    _, token = await users.signed_in()
    result = await gql(REQUEST, {"pet": str(pet.id)}, token=token)
    assert "errors" not in result
    assert result["data"]["requestAdoption"] == {
        "request": None,
        "errors": [{"code": "PET_NOT_AVAILABLE", "field": "petId"}],
    }
    assert [r.applicant_id for r in await pets.requests(pet.id)] == [stray.id]
    assert await pets.status(pet.id) == "AVAILABLE"  # the refused unit rolled back whole
