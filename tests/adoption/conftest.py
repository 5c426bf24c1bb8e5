"""Adoption fixtures: pets made straight through the service, and a quick look at the rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from app.domain.adoption import rules
from app.domain.adoption import service as adoption
from app.domain.adoption.models import AdoptionRequest, Pet
from app.domain.uow import run_unit

PET_FIELDS = "id name species breed ageMonths description photoUrl adoptionFee { amount currency } status"
REQUEST = (
    "mutation($pet: ID!, $m: String) { requestAdoption(petId: $pet, message: $m) "
    "{ request { id status message pet { id status } applicant { id } } errors { code field } } }"
)
CANCEL = (
    "mutation($id: ID!) { cancelAdoptionRequest(id: $id) { request { id status decidedAt pet { "
    "status } } errors { code field } } }"
)
APPROVE = (
    "mutation($id: ID!, $n: String) { approveAdoptionRequest(id: $id, note: $n) "
    "{ request { id status decisionNote decidedAt pet { status } } errors { code field } } }"
)
REJECT = (
    "mutation($id: ID!, $n: String) { rejectAdoptionRequest(id: $id, note: $n) "
    "{ request { id status decisionNote decidedAt pet { status } } errors { code field } } }"
)


class Pets:
    def __init__(self, db) -> None:
        self.db = db

    async def create(self, **overrides: Any) -> Pet:
        values: dict[str, Any] = dict(
            name="Biscuit",
            species="DOG",
            breed="Beagle",
            age_months=14,
            description="",
            photo_url=None,
            adoption_fee=Decimal("150.00"),
        )
        values.update(overrides)
        new = rules.new_pet(**values)
        return await run_unit(
            self.db.sessions, lambda uow: adoption.create_pet(uow, pet=new), lock_timeout_ms=3000
        )

    async def status(self, pet_id) -> str:
        async with self.db.read() as session:
            return (await session.scalars(select(Pet.status).where(Pet.id == pet_id))).one()

    async def requests(self, pet_id) -> list[AdoptionRequest]:
        async with self.db.read() as session:
            stmt = (
                select(AdoptionRequest)
                .where(AdoptionRequest.pet_id == pet_id)
                .order_by(AdoptionRequest.created_at)
            )
            return list(await session.scalars(stmt))

    async def count(self) -> tuple[int, int]:
        """(pets, adoption requests) in the database."""
        async with self.db.read() as session:
            return (
                (await session.scalar(select(func.count()).select_from(Pet))),
                (await session.scalar(select(func.count()).select_from(AdoptionRequest))),
            )


@pytest.fixture
def pets(db) -> Pets:
    return Pets(db)
