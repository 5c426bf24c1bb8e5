"""The read side of adoption: plain selects, never a lock or a write."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.domain.adoption.models import AdoptionRequest, Pet
from app.domain.pagination import Page, fetch_page, where_given

# myAdoptionRequests is a plain list in the contract; a bound keeps it cheap.
MY_REQUESTS_LIMIT = 100


async def pets_page(
    session: AsyncSession, *, species: str | None, status: str | None, first: int | None, after: str | None
) -> Page[Pet]:
    """Newest pets first: what the mobile app shows when browsing."""
    stmt = where_given(select(Pet), (Pet.species, species), (Pet.status, status))
    return await fetch_page(
        session, stmt, keys=[Pet.created_at, Pet.id], first=first, after=after, descending=True
    )


async def requests_page(
    session: AsyncSession, *, status: str | None, first: int | None, after: str | None
) -> Page[AdoptionRequest]:
    """Oldest requests first: staff work through them as a queue."""
    stmt = where_given(select(AdoptionRequest), (AdoptionRequest.status, status))
    return await fetch_page(
        session, stmt, keys=[AdoptionRequest.created_at, AdoptionRequest.id], first=first, after=after
    )


async def requests_of(session: AsyncSession, applicant_id: uuid.UUID) -> list[AdoptionRequest]:
    """The applicant's own requests, newest first."""
    stmt = (
        select(AdoptionRequest)
        .where(AdoptionRequest.applicant_id == applicant_id)
        .order_by(AdoptionRequest.created_at.desc(), AdoptionRequest.id.desc())
        .limit(MY_REQUESTS_LIMIT)
    )
    return list((await session.scalars(stmt)).all())


async def pets_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Pet]:
    """One select for a batch of pets (a DataLoader's view)."""
    return {pet.id: pet for pet in await session.scalars(select(Pet).where(Pet.id.in_(ids)))}
