"""The demo seed: every pet status, consistent requests, idempotent."""

from __future__ import annotations

from sqlalchemy import select

from app.domain.adoption import demo
from app.domain.adoption.models import AdoptionRequest, Pet
from app.domain.uow import run_unit


async def _seed(db) -> None:
    await run_unit(db.sessions, demo.seed, lock_timeout_ms=3000)


async def _rows(db):
    async with db.read() as session:
        return list(await session.scalars(select(Pet))), list(await session.scalars(select(AdoptionRequest)))


async def test_demo_seed_has_pets_in_every_status_with_matching_requests_and_is_idempotent(db, users):
    customer = await users.create(email=demo.CUSTOMER_EMAIL)
    staff = await users.create("STAFF", email=demo.STAFF_EMAIL)
    await _seed(db)
    await _seed(db)
    pets, requests = await _rows(db)
    assert len(pets) == 9 and len({p.species for p in pets}) >= 4
    assert sorted(p.status for p in pets) == ["ADOPTED"] * 2 + ["AVAILABLE"] * 5 + ["PENDING"] * 2
    # Every PENDING or ADOPTED pet is so because of its own request.
    status_of = {p.id: p.status for p in pets}
    assert sorted((status_of[r.pet_id], r.status) for r in requests) == (
        [("ADOPTED", "APPROVED")] * 2 + [("PENDING", "PENDING")] * 2
    )
    assert len({r.pet_id for r in requests}) == 4
    assert {r.applicant_id for r in requests} == {customer.id}
    approved = [r for r in requests if r.status == "APPROVED"]
    assert all(r.decided_by == staff.id and r.decided_at is not None and r.decision_note for r in approved)


async def test_demo_seed_without_demo_users_leaves_every_pet_available(db):
    await _seed(db)
    pets, requests = await _rows(db)
    assert len(pets) == 9 and {p.status for p in pets} == {"AVAILABLE"} and requests == []
