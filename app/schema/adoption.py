"""GraphQL types of the contract: adoption."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

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
    description: str | None = ''
    photo_url: str | None = None
    adoption_fee: Decimal


@strawberry.type
class AdoptionRequest:
    id: strawberry.ID
    pet: Pet
    applicant: User
    status: AdoptionStatus
    created_at: datetime
    message: str | None = None
    decision_note: str | None = None
    decided_at: datetime | None = None


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
