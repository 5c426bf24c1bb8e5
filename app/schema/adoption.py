"""GraphQL types of the contract: adoption."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.types import Info

from app.domain.accounts import views as accounts_views
from app.domain.adoption import views
from app.schema import loaders
from app.schema.accounts import User
from app.schema.common import Money, PageInfo, UserError


@strawberry.enum
class Species(Enum):
    DOG = "DOG"
    CAT = "CAT"
    RABBIT = "RABBIT"
    BIRD = "BIRD"
    REPTILE = "REPTILE"
    FISH = "FISH"
    OTHER = "OTHER"


@strawberry.enum
class PetStatus(Enum):
    AVAILABLE = "AVAILABLE"
    PENDING = "PENDING"
    ADOPTED = "ADOPTED"


@strawberry.enum
class AdoptionStatus(Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


@strawberry.type
class Pet:
    id: strawberry.ID
    name: str
    species: Species
    age_months: int
    description: str
    adoption_fee: Money
    status: PetStatus
    breed: str | None = None
    photo_url: str | None = None

    @classmethod
    def from_model(cls, pet) -> Pet:
        return cls(
            id=strawberry.ID(str(pet.id)),
            name=pet.name,
            species=Species(pet.species),
            age_months=pet.age_months,
            description=pet.description,
            adoption_fee=Money.of(pet.adoption_fee),
            status=PetStatus(pet.status),
            breed=pet.breed,
            photo_url=pet.photo_url,
        )


@strawberry.type
class PetEdge:
    node: Pet
    cursor: str


@strawberry.type
class PetConnection:
    edges: list[PetEdge]
    page_info: PageInfo


@strawberry.input
class PetInput:
    name: str
    species: Species
    breed: str | None = None
    age_months: int
    description: str | None = ""
    photo_url: str | None = None
    adoption_fee: Decimal


async def _request_pet(root: AdoptionRequest, info: Info) -> Pet:
    """Through a per-request DataLoader: a list of requests reads its pets in one select."""
    if root.known_pet is not None:
        return root.known_pet
    return Pet.from_model(await loaders.load(info, views.pets_by_id, root.pet_id))


async def _request_applicant(root: AdoptionRequest, info: Info) -> User:
    if root.known_applicant is not None:
        return root.known_applicant
    return User.from_model(await loaders.load(info, accounts_views.users_by_id, root.applicant_id))


@strawberry.type
class AdoptionRequest:
    id: strawberry.ID
    pet: Pet = strawberry.field(resolver=_request_pet)
    applicant: User = strawberry.field(resolver=_request_applicant)
    status: AdoptionStatus
    created_at: datetime
    message: str | None = None
    decision_note: str | None = None
    decided_at: datetime | None = None
    pet_id: strawberry.Private[uuid.UUID]
    applicant_id: strawberry.Private[uuid.UUID]
    # Already at hand after a mutation (fresh from under the lock), so no second read.
    known_pet: strawberry.Private[Pet | None] = None
    known_applicant: strawberry.Private[User | None] = None

    @classmethod
    def from_model(cls, request, *, pet: Pet | None = None, applicant: User | None = None) -> AdoptionRequest:
        return cls(
            id=strawberry.ID(str(request.id)),
            status=AdoptionStatus(request.status),
            created_at=request.created_at,
            message=request.message,
            decision_note=request.decision_note,
            decided_at=request.decided_at,
            pet_id=request.pet_id,
            applicant_id=request.applicant_id,
            known_pet=pet,
            known_applicant=applicant,
        )


@strawberry.type
class AdoptionRequestEdge:
    node: AdoptionRequest
    cursor: str


@strawberry.type
class AdoptionRequestConnection:
    edges: list[AdoptionRequestEdge]
    page_info: PageInfo


@strawberry.type
class PetPayload:
    errors: list[UserError]
    pet: Pet | None = None


@strawberry.type
class AdoptionRequestPayload:
    errors: list[UserError]
    request: AdoptionRequest | None = None
