"""The read side of adoption: plain selects, never a lock or a write.

Listings are returned as statements plus their keyset order, so the caller
pages them with the shared keyset pagination.
"""
from __future__ import annotations

import uuid
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.accounts.models import User
from app.domain.adoption.models import AdoptionRequest, Pet

# Newest pets first (browse in the mobile app).
PET_ORDER = (Pet.created_at, Pet.id)
PETS_DESCENDING = True
# Oldest requests first: the staff work through them as a queue.
REQUEST_ORDER = (AdoptionRequest.created_at, AdoptionRequest.id)
REQUESTS_DESCENDING = False
# myAdoptionRequests is a plain list in the contract; a bound keeps it cheap.
MY_REQUESTS_LIMIT = 100


def pets_listing(*, species: str | None = None, status: str | None = None) -> Select:
    stmt = select(Pet)
    if species is not None:
        stmt = stmt.where(Pet.species == species)
    if status is not None:
        stmt = stmt.where(Pet.status == status)
    return stmt


def requests_listing(*, status: str | None = None) -> Select:
    stmt = select(AdoptionRequest)
    if status is not None:
        stmt = stmt.where(AdoptionRequest.status == status)
    return stmt


async def find_pet(session: AsyncSession, pet_id: uuid.UUID) -> Pet | None:
    return (await session.scalars(select(Pet).where(Pet.id == pet_id))).first()


async def requests_of(session: AsyncSession, applicant_id: uuid.UUID) -> list[AdoptionRequest]:
    """The applicant's own requests, newest first."""
    stmt = (select(AdoptionRequest).where(AdoptionRequest.applicant_id == applicant_id)
            .order_by(AdoptionRequest.created_at.desc(), AdoptionRequest.id.desc())
            .limit(MY_REQUESTS_LIMIT))
    return list((await session.scalars(stmt)).all())


async def pets_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Pet]:
    """One select for a batch of pets (a DataLoader's view)."""
    return {pet.id: pet for pet in await session.scalars(select(Pet).where(Pet.id.in_(ids)))}


async def applicants_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, User]:
    """One select for a batch of applicants (a DataLoader's view)."""
    return {user.id: user for user in await session.scalars(select(User).where(User.id.in_(ids)))}
